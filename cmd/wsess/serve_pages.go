package main

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/wsess/wsess/pkg/session"
)

// demoFiles are the demo's pages, stylesheet and favicon, built into the
// binary: the demo needs nothing but itself.
//
//go:embed demo
var demoFiles embed.FS

// demoPages are the demo's page templates, each the layout (layout.html)
// around one page's "content".
type demoPages map[string]*template.Template

// parseDemoPages parses each page of demo/ with the layout.
func parseDemoPages() (demoPages, error) {
	funcs := template.FuncMap{"when": when}
	base, err := template.New("layout.html").Funcs(funcs).ParseFS(demoFiles, "demo/layout.html")
	if err != nil {
		return nil, fmt.Errorf("demo layout: %w", err)
	}
	pages := demoPages{}
	for _, name := range []string{"index", "counter", "login", "sessions", "error"} {
		t, err := template.Must(base.Clone()).ParseFS(demoFiles, "demo/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("demo page %s: %w", name, err)
		}
		pages[name] = t
	}
	return pages, nil
}

// demoPage is what the layout shows around every page.
type demoPage struct {
	Title     string
	Nav       string // the header link of this page: home, counter, login, sessions
	User      string // the signed-in user, "" for none
	CSRF      string // the session's CSRF token, for the header's log out form and the page's forms
	Store     string // "cookie" or "redis"
	StoreDesc string
	StyleURL  string
	Now       time.Time
	Data      any // the page's own
}

// page returns the layout's data for r. With forms, the page carries
// forms and so needs the session's CSRF token, which it creates on first
// use; without, it still needs one when a user is signed in (the header's
// log out button). Call it before the response's first byte: creating the
// token changes the session.
func (a *demoApp) page(r *http.Request, title, nav string, forms bool, data any) demoPage {
	s := session.From(r.Context())
	p := demoPage{Title: title, Nav: nav, User: s.UserID(), Store: a.store, StoreDesc: a.storeDesc,
		StyleURL: a.assets.styleURL, Now: a.now(), Data: data}
	if forms || p.User != "" {
		p.CSRF = csrfToken(s)
	}
	return p
}

// render writes page name with status. The page is rendered into a buffer
// first, so a template error is a clean 500.
func (a *demoApp) render(w http.ResponseWriter, status int, name string, p demoPage) {
	var buf bytes.Buffer
	if err := a.pages[name].ExecuteTemplate(&buf, "layout", p); err != nil {
		http.Error(w, "template error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	h.Set("X-Content-Type-Options", "nosniff")
	// The pages show who is signed in and carry the CSRF token: no cache
	// keeps them.
	h.Set("Cache-Control", "no-store")
	// Nothing but the demo's own stylesheet and favicon loads, forms post
	// only here, and no other site frames the pages (no clickjacking of
	// the buttons).
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("Referrer-Policy", "same-origin")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// errorData is the error page's.
type errorData struct {
	Message string
	// Confirm, when set, is the path of a form that does what the request
	// asked for (a GET of /logout shows a "Log out" button).
	Confirm      string
	ConfirmLabel string
}

// errorPage answers status with a page in the layout saying msg.
func (a *demoApp) errorPage(w http.ResponseWriter, r *http.Request, status int, msg string) {
	a.render(w, status, "error", a.page(r, http.StatusText(status), "", false, errorData{Message: msg}))
}

// withErrorPages answers the requests that mux has no route for (404, or
// 405 with its Allow header) with a page in the layout instead of
// net/http's plain text.
func (a *demoApp) withErrorPages(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h, pattern := mux.Handler(r); pattern != "" {
			// Matched: served without matching it again. (The demo's
			// patterns have no wildcards, so the handlers need no
			// Request.PathValue, which only ServeMux.ServeHTTP sets.)
			h.ServeHTTP(w, r)
			return
		}
		mux.ServeHTTP(&errorPageWriter{ResponseWriter: w, app: a, r: r}, r)
	})
}

// errorPageWriter replaces a 404 or 405 answer by the demo's page; other
// answers (the redirects that clean a path) pass through.
type errorPageWriter struct {
	http.ResponseWriter
	app      *demoApp
	r        *http.Request
	replaced bool
}

func (e *errorPageWriter) WriteHeader(code int) {
	switch code {
	case http.StatusNotFound:
		e.replaced = true
		e.app.errorPage(e.ResponseWriter, e.r, code, "There is no page here. The demo's pages are linked from the header.")
	case http.StatusMethodNotAllowed:
		e.replaced = true
		e.app.methodNotAllowed(e.ResponseWriter, e.r)
	default:
		e.ResponseWriter.WriteHeader(code)
	}
}

func (e *errorPageWriter) Write(p []byte) (int, error) {
	if e.replaced {
		return len(p), nil
	}
	return e.ResponseWriter.Write(p)
}

// methodNotAllowed answers 405 (mux has set Allow). What changes state
// takes a POST with the CSRF token, so a link or an <img> on another site
// cannot log anyone out; the page offers the button that does it.
func (a *demoApp) methodNotAllowed(w http.ResponseWriter, r *http.Request) {
	d := errorData{Message: "This address changes something, so it answers only the forms of the demo's pages (a POST), never a link."}
	s := session.From(r.Context())
	switch r.URL.Path {
	case "/logout":
		if s.UserID() != "" {
			d.Confirm, d.ConfirmLabel = "/logout", "Log out"
		}
	case "/reset":
		if !s.IsNew() {
			d.Confirm, d.ConfirmLabel = "/reset", "Reset the session"
		}
	}
	a.render(w, http.StatusMethodNotAllowed, "error", a.page(r, http.StatusText(http.StatusMethodNotAllowed), "", d.Confirm != "", d))
}

// timeView is a time as the pages show it: relative, with the exact time.
type timeView struct {
	RFC string // RFC 3339, UTC
	Rel string // "3 minutes ago", "in 59 minutes"
}

// when returns t as the pages show it at now.
func when(now, t time.Time) timeView {
	return timeView{RFC: t.UTC().Format(time.RFC3339), Rel: relTime(now, t)}
}

// relTime says when t is, seen from now, in the largest whole unit:
// "just now", "5 seconds ago", "3 minutes ago", "in 59 minutes",
// "2 days ago". A zero t is "never".
func relTime(now, t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := now.Sub(t)
	future := d < 0
	if future {
		d = -d
	}
	var s string
	switch {
	case d < 5*time.Second:
		if future {
			return "in a moment"
		}
		return "just now"
	case d < time.Minute:
		s = plural(int64(d/time.Second), "second")
	case d < time.Hour:
		s = plural(int64(d/time.Minute), "minute")
	case d < 48*time.Hour:
		s = plural(int64(d/time.Hour), "hour")
	default:
		s = plural(int64(d/(24*time.Hour)), "day")
	}
	if future {
		return "in " + s
	}
	return s + " ago"
}

// deviceName names the browser and system of a User-Agent in a few words
// ("Chrome 156 on Linux"), or returns the first 48 bytes of one it does not
// know.
func deviceName(ua string) string {
	if ua == "" {
		return "unknown"
	}
	browser := ""
	for _, b := range []struct{ token, name string }{
		{"Edg/", "Edge"}, {"OPR/", "Opera"}, {"Firefox/", "Firefox"}, {"HeadlessChrome/", "Headless Chrome"},
		{"Chrome/", "Chrome"}, {"Version/", "Safari"}, {"curl/", "curl"}, {"Go-http-client/", "Go"},
	} {
		if i := strings.Index(ua, b.token); i >= 0 {
			v := ua[i+len(b.token):]
			if j := strings.IndexAny(v, ". ;)"); j >= 0 {
				v = v[:j]
			}
			browser = strings.TrimSpace(b.name + " " + v)
			break
		}
	}
	system := ""
	for _, o := range []struct{ token, name string }{
		{"Android", "Android"}, {"iPhone", "iOS"}, {"iPad", "iPadOS"}, {"Windows", "Windows"},
		{"Mac OS X", "macOS"}, {"CrOS", "ChromeOS"}, {"Linux", "Linux"},
	} {
		if strings.Contains(ua, o.token) {
			system = o.name
			break
		}
	}
	switch {
	case browser != "" && system != "":
		return browser + " on " + system
	case browser != "":
		return browser
	}
	if len(ua) > 48 {
		return strings.ToValidUTF8(ua[:48], "") + "…"
	}
	return ua
}

// demoAssets serves the stylesheet and the favicon.
type demoAssets struct {
	styleURL string // the stylesheet's path, with its hash: a new build is a new URL
	files    map[string]demoAsset
}

type demoAsset struct {
	body        []byte
	contentType string
	etag        string
}

func newDemoAssets() (*demoAssets, error) {
	a := &demoAssets{files: map[string]demoAsset{}}
	for _, f := range []struct{ path, file, contentType string }{
		{"/static/style.css", "demo/style.css", "text/css; charset=utf-8"},
		{"/favicon.ico", "demo/favicon.ico", "image/x-icon"},
	} {
		b, err := fs.ReadFile(demoFiles, f.file)
		if err != nil {
			return nil, fmt.Errorf("demo asset: %w", err)
		}
		sum := sha256.Sum256(b)
		a.files[f.path] = demoAsset{body: b, contentType: f.contentType, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
	}
	a.styleURL = "/static/style.css?v=" + strings.Trim(a.files["/static/style.css"].etag, `"`)
	return a, nil
}

// ServeHTTP serves the asset at r's path. Assets are served outside the
// session middleware: they need no session, and a Redis session is not
// read for them.
func (a *demoAssets) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f, ok := a.files[r.URL.Path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", f.contentType)
	h.Set("ETag", f.etag)
	h.Set("Cache-Control", "public, max-age=86400")
	h.Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(f.body))
}

// acceptsHTML reports whether an Accept header lists text/html (with a
// quality above 0). "*/*" does not count: curl and other clients that
// accept anything get the plain text.
func acceptsHTML(accept string) bool {
	if accept == "" {
		return false
	}
	for part := range strings.SplitSeq(accept, ",") {
		mediaType, params, _ := strings.Cut(part, ";")
		if !strings.EqualFold(strings.TrimSpace(mediaType), "text/html") {
			continue
		}
		q := 1.0
		for p := range strings.SplitSeq(params, ";") {
			k, v, ok := strings.Cut(p, "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
				if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
					q = f
				}
			}
		}
		if q > 0 {
			return true
		}
	}
	return false
}

// origin is the demo's address as the request reached it, for the curl
// examples.
func origin(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}
