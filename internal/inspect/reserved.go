package inspect

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/wsess/wsess/pkg/session"
)

// The keys pkg/session (and weppy) store with a session's values.
const (
	keyCreated = "_wsess_created" // Unix seconds
	keyAuth    = "_wsess_auth"    // Unix milliseconds
	keyUser    = "_wsess_user"    // the user id
	keyGen     = "_wsess_gen"     // a revocation generation
	keyLogin   = "_wsess_lid"     // the id of a Login, ended by the logout
	keyPersist = "_wsess_persist" // 0: the cookie ends with the browser
	keyExpires = "_expires_after" // weppy's per-session idle timeout, seconds
)

// IsReserved reports whether key is one the library keeps for itself
// ("_wsess_*", "_expires_after") rather than one of the app's.
func IsReserved(key string) bool {
	return strings.HasPrefix(key, "_wsess_") || key == keyExpires
}

// takeReserved moves the reserved keys of s.Data whose values have the
// expected type to s's fields, and sets the absolute deadline. A reserved
// key with a value of another type stays in Data, so nothing is lost.
func (s *Session) takeReserved() {
	if sec, ok := intValue(s.Data[keyCreated]); ok {
		if s.Created.IsZero() {
			s.Created = time.Unix(sec, 0).UTC()
		}
		delete(s.Data, keyCreated)
	}
	if ms, ok := intValue(s.Data[keyAuth]); ok {
		s.AuthTime = time.UnixMilli(ms).UTC()
		delete(s.Data, keyAuth)
	}
	if u, ok := s.Data[keyUser].(string); ok {
		s.User = u
		delete(s.Data, keyUser)
	}
	if g, ok := intValue(s.Data[keyGen]); ok {
		s.Generation = &g
		delete(s.Data, keyGen)
	}
	if l, ok := s.Data[keyLogin].(string); ok {
		s.LoginID = l
		delete(s.Data, keyLogin)
	}
	if n, ok := intValue(s.Data[keyPersist]); ok && n == 0 {
		s.BrowserSession = true
		delete(s.Data, keyPersist)
	}
	if n, ok := s.Data[keyExpires].(json.Number); ok {
		if f, err := n.Float64(); err == nil && f > 0 && f < math.MaxInt64/float64(time.Second) {
			s.IdleTimeout = time.Duration(f * float64(time.Second))
			delete(s.Data, keyExpires)
		}
	}
	// The absolute lifetime of wsess's own formats defaults to 24 h; the
	// weppy and Emmett formats have none unless the app set one, which
	// the stored data does not say.
	if !s.Created.IsZero() && (s.Format == FormatWsess || s.Format == FormatJSON) {
		s.AbsoluteDeadline = s.Created.Add(session.DefaultAbsoluteTimeout)
		s.AbsoluteAssumed = true
	}
}

// intValue is v as an integer, when it is one (json.Number without a
// fraction).
func intValue(v any) (int64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	i, err := strconv.ParseInt(string(n), 10, 64)
	return i, err == nil
}
