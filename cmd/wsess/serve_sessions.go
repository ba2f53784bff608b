package main

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/wsess/wsess/pkg/session"
)

// maxDemoUser bounds a demo user name, in bytes.
const maxDemoUser = 64

// flashKey is the session key of the notice that /sessions shows once,
// after a revoke (Session.SetFlash).
const flashKey = "notice"

// loginData is the login page's.
type loginData struct {
	Name     string // the name to show in the field
	Error    string
	Remember bool // the "remember me" box, kept ticked when the form is shown again
}

// loginForm shows the login form, its field filled from ?user= when given.
func (a *demoApp) loginForm(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("user")
	if len(name) > maxDemoUser || !utf8.ValidString(name) {
		name = ""
	}
	a.render(w, http.StatusOK, "login", a.page(r, "Log in", "login", true, loginData{Name: name}))
}

// login signs the session in as the form's user (a demo: no password) and
// shows the user's sessions.
func (a *demoApp) login(w http.ResponseWriter, r *http.Request) {
	user := r.PostForm.Get("user")
	if strings.TrimSpace(user) == "" || len(user) > maxDemoUser || !utf8.ValidString(user) {
		d := loginData{Error: "Give a name of 1 to 64 bytes of UTF-8, not only spaces.", Remember: r.PostForm.Get("remember") == "1"}
		if utf8.ValidString(user) && len(user) <= maxDemoUser {
			d.Name = user
		}
		a.render(w, http.StatusBadRequest, "login", a.page(r, "Log in", "login", true, d))
		return
	}
	s := session.From(r.Context())
	loginWithNewToken(s, user)
	s.SetPersistent(r.PostForm.Get("remember") == "1")
	http.Redirect(w, r, "/sessions", http.StatusSeeOther)
}

type sessionsData struct {
	Notice   string // the flash left by a revoke
	Listed   bool   // the store lists sessions (Redis)
	Sessions []sessionRow
	Others   bool // the user has other sessions to log out (always true for the cookie store: it cannot tell)
	Revoke   bool // the store can log out the other devices
	ShowIP   bool // some session has an IP (RedisOptions.RecordIP)
	// The current session, for the cookie store, which lists none.
	AuthTime, Created, Expires time.Time
}

type sessionRow struct {
	session.Info
	Current bool
	Device  string // the User-Agent in a few words
	Short   string // the handle's first characters, for the revoke button's label
}

// sessions shows the signed-in user's sessions: a list with the Redis
// store; with the cookie store this browser's session only, and "log out my
// other devices" with revocations.
func (a *demoApp) sessions(w http.ResponseWriter, r *http.Request) {
	s := session.From(r.Context())
	user := s.UserID()
	d := sessionsData{Listed: a.redis != nil, Revoke: a.redis != nil || a.cookies != nil,
		AuthTime: s.AuthTime(), Created: s.Created(), Expires: s.Expires()}
	if v, ok := s.Flash(flashKey); ok {
		d.Notice, _ = v.(string)
	}
	if user != "" && a.redis != nil {
		infos, err := a.redis.UserSessions(r.Context(), user)
		if err != nil {
			a.errorPage(w, r, http.StatusServiceUnavailable, "The sessions cannot be listed now: Redis did not answer. Try again in a moment.")
			return
		}
		current := s.Handle()
		for _, in := range infos {
			d.Sessions = append(d.Sessions, sessionRow{Info: in, Current: in.Handle == current,
				Device: deviceName(in.UserAgent), Short: shortHandle(in.Handle)})
			d.ShowIP = d.ShowIP || in.IP != ""
		}
		d.Others = len(d.Sessions) > 1
	} else {
		d.Others = a.cookies != nil
	}
	a.render(w, http.StatusOK, "sessions", a.page(r, "Your sessions", "sessions", false, d))
}

// revoke ends one of the user's sessions, by handle (Redis store). A handle
// that is not one of the user's own sessions revokes nothing: a user cannot
// end another's session, and cannot tell whether the handle exists.
func (a *demoApp) revoke(w http.ResponseWriter, r *http.Request) {
	s := session.From(r.Context())
	user := s.UserID()
	switch {
	case a.redis == nil:
		a.errorPage(w, r, http.StatusNotImplemented, "A cookie session lives in the browser: the cookie store cannot end one session by handle.")
		return
	case user == "":
		http.Redirect(w, r, "/sessions", http.StatusSeeOther)
		return
	}
	handle := r.PostForm.Get("handle")
	if handle != "" && handle == s.Handle() {
		// This browser's own session: a logout.
		s.Destroy()
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	infos, err := a.redis.UserSessions(r.Context(), user)
	if err != nil {
		a.errorPage(w, r, http.StatusServiceUnavailable, "The session cannot be revoked now: Redis did not answer. Try again in a moment.")
		return
	}
	notice := "That session had already ended."
	if slices.ContainsFunc(infos, func(in session.Info) bool { return in.Handle == handle }) {
		n, err := a.redis.Revoke(r.Context(), handle)
		if err != nil {
			a.errorPage(w, r, http.StatusServiceUnavailable, "The session cannot be revoked now: Redis did not answer. Try again in a moment.")
			return
		}
		if n > 0 {
			notice = fmt.Sprintf("Session %s is revoked: its next request starts anonymous.", shortHandle(handle))
		}
	}
	s.SetFlash(flashKey, notice)
	http.Redirect(w, r, "/sessions", http.StatusSeeOther)
}

// logoutOthers ends the user's other sessions ("log out my other
// devices") and keeps this one.
func (a *demoApp) logoutOthers(w http.ResponseWriter, r *http.Request) {
	s := session.From(r.Context())
	user := s.UserID()
	if user == "" {
		http.Redirect(w, r, "/sessions", http.StatusSeeOther)
		return
	}
	notice := "Your other devices are logged out."
	switch {
	case a.redis != nil:
		n, err := a.redis.RevokeUser(r.Context(), user, s.Handle())
		if err != nil {
			a.errorPage(w, r, http.StatusServiceUnavailable, "Your other devices cannot be logged out now: Redis did not answer. Try again in a moment.")
			return
		}
		notice = fmt.Sprintf("Your other devices are logged out (%s ended).", plural(int64(n), "session"))
	case a.cookies != nil:
		// Refuse every cookie of the user whose login was committed until
		// now, then log this browser in again: its login is committed when
		// the response starts, after the revocation (Redis orders the two,
		// not the clock), so its new cookie stands and only the others end.
		if err := a.cookies.RevokeUser(r.Context(), user); err != nil {
			a.errorPage(w, r, http.StatusServiceUnavailable, "Your other devices cannot be logged out now: Redis did not answer. Try again in a moment.")
			return
		}
		s.Login(user)
	default:
		a.errorPage(w, r, http.StatusNotImplemented, "This demo cannot log out other devices: start it with --revocations (and a Redis URL) to keep revocations for the cookie store.")
		return
	}
	s.SetFlash(flashKey, notice)
	http.Redirect(w, r, "/sessions", http.StatusSeeOther)
}

// shortHandle is the first characters of a handle, enough to tell a
// user's sessions apart.
func shortHandle(h string) string {
	if len(h) > 8 {
		return h[:8]
	}
	return h
}
