package main

import (
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"net/http"

	"github.com/wsess/wsess/pkg/session"
)

// The demo's CSRF protection, the pattern an app on pkg/session can copy:
// a synchronizer token kept in the session.
//
//   - csrfToken gives the session a random token (crypto/rand, 128 bits) the
//     first time a page needs one, stored in the session under csrfKey;
//   - every form carries it in a hidden field, csrfField;
//   - every state change is a POST, and withCSRF compares the field with the
//     session's token in constant time (crypto/subtle) before the handler
//     runs: a missing or wrong token, or a session without one, is 403 and
//     changes nothing;
//   - a login gives the session a new token (loginWithNewToken), as it gives
//     it a new id.
//
// SameSite=Lax (the managers' default) already keeps the cookie off
// cross-site POSTs in current browsers, but not off same-site ones (a
// sibling subdomain is same-site) nor in older browsers, and an app may
// need SameSite=None: the token does not depend on any of that. Another
// site can make the browser send the cookie; it cannot read the token.
const (
	csrfKey   = "csrf"       // the session key of the token
	csrfField = "csrf_token" // the form field that carries it
	// maxFormBytes bounds the body of a form post.
	maxFormBytes = 16 << 10
)

// csrfToken returns the session's CSRF token, creating and storing one on
// first use. Call it before the response's first byte (it can change the
// session).
func csrfToken(s *session.Session) string {
	if t := s.String(csrfKey); t != "" {
		return t
	}
	t := rand.Text()
	s.Set(csrfKey, t)
	return t
}

// loginWithNewToken logs the session in as user and gives it a new CSRF
// token: a token seen before the login (say, on a shared computer) does not
// carry over.
func loginWithNewToken(s *session.Session, user string) {
	s.Login(user)
	s.Set(csrfKey, rand.Text())
}

// errCSRF is why withCSRF refused a request.
var errCSRF = errors.New("serve demo: missing or wrong CSRF token")

// checkCSRF reads r's form (at most maxFormBytes) and compares its token
// with the session's in constant time.
func checkCSRF(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		return err
	}
	want := session.From(r.Context()).String(csrfKey)
	got := r.PostForm.Get(csrfField)
	if want == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return errCSRF
	}
	return nil
}

// withCSRF runs next only for a request whose form carries the session's
// CSRF token; it answers the others 403 (400 for a form it cannot read).
func (a *demoApp) withCSRF(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := checkCSRF(w, r); err != nil {
			if errors.Is(err, errCSRF) {
				a.errorPage(w, r, http.StatusForbidden, "This form's security token does not match your session, so nothing was changed. "+
					"The page may be old, or your session ended (say, logged out from another device): go back, reload the page and try again.")
				return
			}
			a.errorPage(w, r, http.StatusBadRequest, "The form could not be read.")
			return
		}
		next(w, r)
	}
}
