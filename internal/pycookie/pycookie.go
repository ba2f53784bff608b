// Package pycookie opens and seals the encrypted session cookies of weppy
// and Emmett (see shared/interop/FORMATS.md). It deals in the plaintext
// pickle bytes; internal/pickle turns them into values.
//
// Two formats exist:
//
//   - weppy "legacy" (weppy 0.x-1.x, Emmett before 2.5):
//     hex(HMAC-MD5(hex(SHA1(secret)), b64)) ":" b64, where b64 is the urlsafe
//     base64 of AES-256-CFB with 8-byte (64-bit) segments (key = the secret
//     padded with '.', IV = the key's first 16 bytes) over the pickle padded
//     with '.' to 32 bytes. That is what pyaes's
//     AESModeOfOperationCFB(key, iv=key[:16], segment_size=8) does: pyaes
//     counts segment_size in bytes, so it is neither CFB8 nor CFB128.
//   - Emmett "modern" (2.5 and later):
//     b64(salt) ":" b64(HMAC-SHA256(k2, cipher)) ":" b64(cipher), with
//     k1|k2|nonce = PBKDF2-SHA256(secret, salt, 1000, 80) and cipher =
//     AES-256-CTR(k1, nonce) over the pickle.
//
// Either payload may be zlib-compressed; that is detected by content and
// the inflated size is bounded. MACs are checked in constant time before
// anything is decrypted, and no error message contains the secret.
package pycookie

import (
	"bytes"
	"compress/zlib"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/md5"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Errors, tested with errors.Is.
var (
	// ErrMalformed: the value does not have the shape of the format.
	ErrMalformed = errors.New("pycookie: malformed cookie")
	// ErrBadSignature: the MAC does not match: a wrong secret or a
	// tampered cookie.
	ErrBadSignature = errors.New("pycookie: signature does not match (wrong secret or tampered cookie)")
	// ErrUnusableSecret: the secret cannot have been used by weppy (its
	// padded AES key is not 32 bytes: the secret is 32 bytes or longer).
	ErrUnusableSecret = errors.New("pycookie: secret cannot be a weppy key (32 bytes or longer)")
	// ErrTooLarge: the decompressed payload exceeds the limit.
	ErrTooLarge = errors.New("pycookie: decompressed payload too large")
)

// DefaultMaxDecompressed bounds an inflated payload when Opener's limit is 0.
const DefaultMaxDecompressed = 1 << 20

// b64 is the urlsafe alphabet with padding, strict so that one cookie has
// one spelling (non-canonical trailing bits are refused).
var b64 = base64.URLEncoding.Strict()

// Opener opens cookies with a bound on the decompressed size. The zero
// value uses DefaultMaxDecompressed.
type Opener struct {
	MaxDecompressed int
}

// OpenWeppy opens a weppy legacy cookie with the default limits.
func OpenWeppy(cookie, secret string) ([]byte, error) { return Opener{}.OpenWeppy(cookie, secret) }

// OpenEmmett opens an Emmett 2.5+ cookie with the default limits.
func OpenEmmett(cookie, secret string) ([]byte, error) { return Opener{}.OpenEmmett(cookie, secret) }

// OpenWeppy checks and decrypts a weppy legacy cookie value and returns the
// pickle. The result may end with '.' padding after the pickle's STOP
// opcode; a pickle decoder ignores it.
func (o Opener) OpenWeppy(cookie, secret string) ([]byte, error) {
	// 1. Shape: "<32 hex>:<base64>".
	sig, data, ok := strings.Cut(cookie, ":")
	if !ok || len(sig) != 2*md5.Size || data == "" {
		return nil, fmt.Errorf("%w: want <hex signature>:<data>", ErrMalformed)
	}
	// 2. Signature: lowercase hex HMAC-MD5 over the base64 text, keyed with
	// the hex SHA-1 of the secret; compared as text, in constant time.
	want := weppySignature(data, secret)
	if subtle.ConstantTimeCompare([]byte(sig), []byte(want)) != 1 {
		return nil, ErrBadSignature
	}
	// 3. Base64, then AES-256-CFB-64 with the padded secret and its prefix
	// as IV. weppy always writes whole segments.
	ct, err := b64.DecodeString(data)
	if err != nil {
		return nil, fmt.Errorf("%w: data is not urlsafe base64", ErrMalformed)
	}
	if len(ct)%cfbSegment != 0 {
		return nil, fmt.Errorf("%w: data is not a whole number of %d-byte segments", ErrMalformed, cfbSegment)
	}
	key, err := weppyKey(secret)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("pycookie: %w", err)
	}
	pt := make([]byte, len(ct))
	cfb64(block, key[:aes.BlockSize], pt, ct, false)
	// 4. Optional zlib.
	return o.inflate(pt)
}

// OpenEmmett checks and decrypts an Emmett 2.5+ cookie value and returns
// the pickle.
func (o Opener) OpenEmmett(cookie, secret string) ([]byte, error) {
	// 1. Shape: three urlsafe base64 parts.
	parts := strings.Split(cookie, ":")
	if len(parts) != 3 {
		return nil, fmt.Errorf("%w: want <salt>:<signature>:<data>", ErrMalformed)
	}
	var raw [3][]byte
	for i, p := range parts {
		b, err := b64.DecodeString(p)
		if err != nil || len(b) == 0 || strings.ContainsAny(p, "\r\n") {
			return nil, fmt.Errorf("%w: part %d is not urlsafe base64", ErrMalformed, i+1)
		}
		raw[i] = b
	}
	salt, sig, ct := raw[0], raw[1], raw[2]
	if len(sig) != sha256.Size {
		return nil, fmt.Errorf("%w: signature is %d bytes, want %d", ErrMalformed, len(sig), sha256.Size)
	}
	// 2. Keys from PBKDF2, then the MAC over the ciphertext, in constant time.
	k1, k2, nonce, err := emmettKeys(secret, salt)
	if err != nil {
		return nil, err
	}
	m := hmac.New(sha256.New, k2)
	m.Write(ct)
	if !hmac.Equal(m.Sum(nil), sig) {
		return nil, ErrBadSignature
	}
	// 3. AES-256-CTR with the derived counter block.
	block, err := aes.NewCipher(k1)
	if err != nil {
		return nil, fmt.Errorf("pycookie: %w", err)
	}
	pt := make([]byte, len(ct))
	cipher.NewCTR(block, nonce).XORKeyStream(pt, ct)
	// 4. Optional zlib.
	return o.inflate(pt)
}

// SealWeppy makes a weppy legacy cookie value from a pickle; level 1-9
// compresses it with zlib first (0: no compression).
func SealWeppy(pickle []byte, secret string, level int) (string, error) {
	key, err := weppyKey(secret)
	if err != nil {
		return "", err
	}
	pt, err := deflate(pickle, level)
	if err != nil {
		return "", err
	}
	pad := 32 - len(pt)%32
	pt = append(pt, bytes.Repeat([]byte{'.'}, pad)...)
	block, err := aes.NewCipher(key)
	if err != nil {
		return "", fmt.Errorf("pycookie: %w", err)
	}
	ct := make([]byte, len(pt))
	cfb64(block, key[:aes.BlockSize], ct, pt, true)
	data := b64.EncodeToString(ct)
	return weppySignature(data, secret) + ":" + data, nil
}

// SealEmmett makes an Emmett 2.5+ cookie value from a pickle with a fresh
// random salt; level 1-9 compresses it with zlib first (0: none).
func SealEmmett(pickle []byte, secret string, level int) (string, error) {
	salt := make([]byte, 32)
	if _, err := io.ReadFull(rand.Reader, salt); err != nil {
		return "", fmt.Errorf("pycookie: salt: %w", err)
	}
	pt, err := deflate(pickle, level)
	if err != nil {
		return "", err
	}
	k1, k2, nonce, err := emmettKeys(secret, salt)
	if err != nil {
		return "", err
	}
	block, err := aes.NewCipher(k1)
	if err != nil {
		return "", fmt.Errorf("pycookie: %w", err)
	}
	ct := make([]byte, len(pt))
	cipher.NewCTR(block, nonce).XORKeyStream(ct, pt)
	m := hmac.New(sha256.New, k2)
	m.Write(ct)
	return b64.EncodeToString(salt) + ":" + b64.EncodeToString(m.Sum(nil)) + ":" + b64.EncodeToString(ct), nil
}

// CheckWeppySecret returns ErrUnusableSecret when secret cannot be a weppy
// key: its first 32 characters are 32 bytes or more in UTF-8, which weppy
// pads to a 64-byte key that pyaes refuses (every request then fails).
func CheckWeppySecret(secret string) error {
	_, err := weppyKey(secret)
	return err
}

func weppySignature(data, secret string) string {
	hk := sha1.Sum([]byte(secret))
	m := hmac.New(md5.New, []byte(hex.EncodeToString(hk[:])))
	m.Write([]byte(data))
	return hex.EncodeToString(m.Sum(nil))
}

// weppyKey is the secret's first 32 characters as UTF-8, padded with '.' to
// the next multiple of 32 bytes (always adding at least one).
func weppyKey(secret string) ([]byte, error) {
	n, i := 0, 0
	for i < len(secret) && n < 32 {
		_, size := utf8.DecodeRuneInString(secret[i:])
		i += size
		n++
	}
	key := []byte(secret[:i])
	key = append(key, bytes.Repeat([]byte{'.'}, 32-len(key)%32)...)
	if len(key) != 32 {
		return nil, ErrUnusableSecret
	}
	return key, nil
}

func emmettKeys(secret string, salt []byte) (k1, k2, nonce []byte, err error) {
	dk, err := pbkdf2.Key(sha256.New, secret, salt, 1000, 80)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("pycookie: key derivation failed: %w", err)
	}
	return dk[0:32], dk[32:64], dk[64:80], nil
}

// cfbSegment is the CFB segment of weppy's cipher, in bytes.
const cfbSegment = 8

// cfb64 runs AES in CFB mode with 8-byte segments, as pyaes's
// AESModeOfOperationCFB(segment_size=8) does: each 8-byte segment is XORed
// with the first 8 bytes of the encrypted shift register, which then shifts
// those 8 ciphertext bytes in. len(src) must be a multiple of cfbSegment.
func cfb64(block cipher.Block, iv, dst, src []byte, encrypt bool) {
	var reg, out [aes.BlockSize]byte
	copy(reg[:], iv)
	for i := 0; i+cfbSegment <= len(src); i += cfbSegment {
		block.Encrypt(out[:], reg[:])
		copy(reg[:], reg[cfbSegment:])
		for j := 0; j < cfbSegment; j++ {
			c := src[i+j]
			dst[i+j] = c ^ out[j]
			if encrypt {
				c = dst[i+j]
			}
			reg[aes.BlockSize-cfbSegment+j] = c
		}
	}
}

// IsZlib reports whether b starts with a zlib header (CMF 0x78 for
// deflate with a 32K window, and a valid header check). Pickles start with
// 0x80 (protocol 2+) or an ASCII opcode, so the two never collide.
func IsZlib(b []byte) bool {
	return len(b) >= 2 && b[0] == 0x78 && (uint16(b[0])<<8|uint16(b[1]))%31 == 0
}

func (o Opener) inflate(pt []byte) ([]byte, error) {
	if !IsZlib(pt) {
		return pt, nil
	}
	max := o.MaxDecompressed
	if max <= 0 {
		max = DefaultMaxDecompressed
	}
	zr, err := zlib.NewReader(bytes.NewReader(pt))
	if err != nil {
		return nil, fmt.Errorf("%w: bad zlib data", ErrMalformed)
	}
	defer zr.Close()
	out, err := io.ReadAll(io.LimitReader(zr, int64(max)+1))
	if err != nil {
		return nil, fmt.Errorf("%w: bad zlib data", ErrMalformed)
	}
	if len(out) > max {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, max)
	}
	return out, nil
}

func deflate(b []byte, level int) ([]byte, error) {
	if level == 0 {
		return append([]byte(nil), b...), nil
	}
	var buf bytes.Buffer
	zw, err := zlib.NewWriterLevel(&buf, level)
	if err != nil {
		return nil, fmt.Errorf("pycookie: compression level %d: %w", level, err)
	}
	zw.Write(b)
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("pycookie: compress: %w", err)
	}
	return buf.Bytes(), nil
}
