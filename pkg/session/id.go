package session

import (
	"crypto/rand"
	"encoding/base64"
)

// idBytes is the entropy of a session id: 256 bits.
const idBytes = 32

// idLen is the length of a wsess id: 32 bytes in unpadded base64url.
var idLen = base64.RawURLEncoding.EncodedLen(idBytes)

// newID returns a fresh random session id.
func newID() string {
	var b [idBytes]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never returns an error (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// ValidID reports whether id has the shape of a session id: 43 characters of
// unpadded base64url encoding 32 bytes (what wsess creates), or the lowercase
// UUID4 form weppy and Emmett use ("9b2f4a0e-6f4c-4e0e-8d2a-3f1c2b7a9e10").
// An id of any other shape is treated as no session and never sent to the
// store.
func ValidID(id string) bool {
	switch len(id) {
	case idLen:
		for i := 0; i < len(id); i++ {
			if !isB64URL(id[i]) {
				return false
			}
		}
		// 43 characters carry 258 bits: the last one's low 2 bits must be 0
		// for a canonical encoding of 32 bytes.
		return b64Value(id[len(id)-1])&0x03 == 0
	case 36:
		return isUUID4(id)
	}
	return false
}

func isB64URL(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}

func b64Value(c byte) byte {
	switch {
	case c >= 'A' && c <= 'Z':
		return c - 'A'
	case c >= 'a' && c <= 'z':
		return c - 'a' + 26
	case c >= '0' && c <= '9':
		return c - '0' + 52
	case c == '-':
		return 62
	}
	return 63
}

func isUUID4(id string) bool {
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		case 14:
			if c != '4' {
				return false
			}
		case 19:
			if c != '8' && c != '9' && c != 'a' && c != 'b' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
				return false
			}
		}
	}
	return true
}
