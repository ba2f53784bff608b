// Package frameworks names, for the tests that run the real weppy and
// Emmett code (../shared/upstream/pyreal), the pickle target of each
// framework release the runner holds. It imports pkg/session, so only
// tests import it (internal/pyreal itself cannot: pkg/session's own
// dependencies test against pyreal).
package frameworks

import "github.com/wsess/wsess/pkg/session"

// Targets maps each framework id of ../shared/upstream/pyreal to the
// pickle target that writes what that release writes itself.
var Targets = map[string]session.Target{
	"weppy-1.3.4":          session.TargetWeppy13,
	"emmett-2.4.14-legacy": session.TargetEmmett24,
	"emmett-2.4.14":        session.TargetEmmett24,
	"emmett-2.5.13":        session.TargetEmmett25,
	"emmett-2.7.1":         session.TargetEmmett26,
	"emmett-core-1.3.11":   session.TargetEmmettCore,
}
