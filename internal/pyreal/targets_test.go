package pyreal_test

import (
	"encoding/hex"
	"testing"

	"github.com/wsess/wsess/internal/pycookie"
	"github.com/wsess/wsess/internal/pyreal"
	"github.com/wsess/wsess/pkg/session"
)

// loads says which targets each release loads: the README's version table.
// TargetAny (a plain dict) loads everywhere; a release loads the sdict of
// its own family only (Emmett 2.7 loads both Emmett paths).
var loads = map[string][]session.Target{
	"weppy-1.3.4":          {session.TargetAny, session.TargetWeppy13},
	"emmett-2.4.14-legacy": {session.TargetAny, session.TargetEmmett24, session.TargetEmmett25},
	"emmett-2.4.14":        {session.TargetAny, session.TargetEmmett24, session.TargetEmmett25},
	"emmett-2.5.13":        {session.TargetAny, session.TargetEmmett24, session.TargetEmmett25},
	"emmett-2.7.1":         {session.TargetAny, session.TargetEmmett24, session.TargetEmmett25, session.TargetEmmett26, session.TargetEmmettCore},
	"emmett-core-1.3.11":   {session.TargetAny, session.TargetEmmett26, session.TargetEmmettCore},
}

// TestTargetsAcrossReleases writes one session for every target, as a
// cookie and as a Redis value, and has every release read it: a release
// loads exactly the targets of the table, and for any other it keeps none
// of the values (the real code fails the request or starts an empty
// session; it never loads a partial session).
func TestTargetsAcrossReleases(t *testing.T) {
	const secret = "shared-secret-of-the-apps"
	for _, fw := range pyreal.Frameworks(t) {
		t.Run(fw, func(t *testing.T) {
			py := pyreal.Shared(t, fw)
			want, ok := loads[fw]
			if !ok {
				t.Fatalf("no row for %s in the table", fw)
			}
			seal := pycookie.SealEmmett
			if py.Info().String("cookie_format") == "weppy" {
				seal = pycookie.SealWeppy
			}
			for _, tg := range session.Targets() {
				pk, err := session.PickleCodec{Target: tg}.Marshal(map[string]any{"counter": 1})
				if err != nil {
					t.Fatal(err)
				}
				cookie, err := seal(pk, secret, 0)
				if err != nil {
					t.Fatal(err)
				}
				ok := false
				for _, w := range want {
					ok = ok || w == tg
				}
				for what, req := range map[string]map[string]any{
					"cookie":      {"op": "read-cookie", "key": secret, "cookie": cookie},
					"Redis value": {"op": "read-redis-value", "value_hex": hex.EncodeToString(pk)},
				} {
					r, err := py.Call(req)
					if err != nil {
						t.Fatal(err)
					}
					loaded := r.Err() == nil && string(r.Data()) == `{"counter":1}`
					if loaded != ok {
						t.Errorf("%s for target %s: loaded=%v, want %v (%s, %v)", what, tg, loaded, ok, r.Data(), r.Err())
					}
					if !ok && r.Err() == nil && string(r.Data()) != `{}` {
						t.Errorf("%s for target %s: partly loaded as %s", what, tg, r.Data())
					}
				}
			}
		})
	}
}
