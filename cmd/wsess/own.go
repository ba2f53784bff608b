package main

import "github.com/wsess/wsess/internal/manager"

// ownText says for people what one of wsess's own keys is (redis ls
// --decode's preview): "wsess tombstone: renamed to wppsess:...". The
// caller escapes it.
func ownText(o manager.Own) string {
	switch o.Kind {
	case manager.OwnTombstone:
		return "wsess tombstone: renamed to " + o.Target
	case manager.OwnIndex:
		return "wsess index of a user's sessions"
	case manager.OwnIndexMeta:
		return "wsess index metadata of " + o.Target
	case manager.OwnMarker:
		return "wsess last-seen marker of " + o.Target
	case manager.OwnRevocation:
		return "wsess revocation of a user's cookie sessions"
	case manager.OwnEndedLogin:
		return "wsess ended login of a cookie session (its logout)"
	}
	return "wsess bookkeeping"
}
