package main

import (
	"html/template"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/wsess/wsess/pkg/session"
)

// maxDemoUser bounds a demo user name, in bytes.
const maxDemoUser = 64

// login signs the session in as ?user= (a demo: no password) and shows the
// user's sessions.
func (a *demoApp) login(w http.ResponseWriter, r *http.Request) {
	user := r.URL.Query().Get("user")
	if user == "" || len(user) > maxDemoUser || !utf8.ValidString(user) {
		http.Error(w, "give ?user=NAME (1 to 64 bytes of UTF-8)", http.StatusBadRequest)
		return
	}
	session.From(r.Context()).Login(user)
	http.Redirect(w, r, "/sessions", http.StatusSeeOther)
}

type sessionsData struct {
	User     string
	Store    string
	Current  string // the current session's handle (Redis)
	Sessions []sessionRow
	Listed   bool // the store lists sessions (Redis)
	Revoke   bool // the store can log out the other devices
	Out      bool // the other devices were just logged out
}

type sessionRow struct {
	session.Info
	Current bool
}

// sessions shows the signed-in user's sessions: a list with the Redis
// store; with the cookie store only the button, and only with revocations.
func (a *demoApp) sessions(w http.ResponseWriter, r *http.Request) {
	s := session.From(r.Context())
	d := sessionsData{User: s.UserID(), Store: a.store, Current: s.Handle(),
		Listed: a.redis != nil, Revoke: a.redis != nil || a.cookies != nil,
		Out: r.URL.Query().Get("others") == "out"}
	if d.User != "" && a.redis != nil {
		infos, err := a.redis.UserSessions(r.Context(), d.User)
		if err != nil {
			http.Error(w, "cannot list the sessions", http.StatusServiceUnavailable)
			return
		}
		for _, in := range infos {
			d.Sessions = append(d.Sessions, sessionRow{Info: in, Current: in.Handle == d.Current})
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if err := sessionsTemplate.Execute(w, d); err != nil {
		http.Error(w, "template error", http.StatusInternalServerError)
	}
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
	switch {
	case a.redis != nil:
		if _, err := a.redis.RevokeUser(r.Context(), user, s.Handle()); err != nil {
			http.Error(w, "cannot log out the other devices", http.StatusServiceUnavailable)
			return
		}
	case a.cookies != nil:
		// Refuse every cookie of the user whose login was committed until
		// now, then log this browser in again: its login is committed when
		// the response starts, after the revocation (Redis orders the two,
		// not the clock), so its new cookie stands and only the others end.
		if err := a.cookies.RevokeUser(r.Context(), user); err != nil {
			http.Error(w, "cannot log out the other devices", http.StatusServiceUnavailable)
			return
		}
		s.Login(user)
	default:
		http.Error(w, "this store cannot log out other devices (start the demo with --revocations)", http.StatusNotImplemented)
		return
	}
	http.Redirect(w, r, "/sessions?others=out", http.StatusSeeOther)
}

// at formats a time for the page (RFC 3339, UTC), "" for none.
func at(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

var sessionsTemplate = template.Must(template.New("sessions").Funcs(template.FuncMap{"at": at}).Parse(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>wsess demo: your sessions</title></head>
<body>
<h1>Your sessions</h1>
{{- if not .User}}
<p id="user">Not signed in. <a href="/login?user=demo">Log in as demo</a></p>
{{- else}}
<p id="user">Signed in as <strong>{{.User}}</strong> ({{.Store}} store). <a href="/logout">Log out</a></p>
{{- if .Out}}
<p id="others-out">Your other devices are logged out.</p>
{{- end}}
{{- if .Listed}}
<table id="sessions">
<tr><th>handle</th><th>created</th><th>last seen</th><th>expires</th><th>user agent</th></tr>
{{- range .Sessions}}
<tr{{if .Current}} class="current"{{end}}><td><code>{{.Handle}}</code>{{if .Current}} (this one){{end}}</td><td>{{at .Created}}</td><td>{{at .LastSeen}}</td><td>{{at .Expires}}</td><td>{{.UserAgent}}</td></tr>
{{- end}}
</table>
{{- else}}
<p id="unlisted">A cookie session lives in the browser: the cookie store cannot list your sessions.</p>
{{- end}}
{{- if .Revoke}}
<form method="post" action="/sessions/others"><button id="logout-others" type="submit">Log out my other devices</button></form>
{{- else}}
<p id="no-revoke">Start the demo with --revocations (and a Redis URL) to log out your other devices.</p>
{{- end}}
{{- end}}
<p><a href="/">back</a></p>
</body>
</html>
`))
