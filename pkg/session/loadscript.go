package session

import (
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// loadConfig is what the load script of one RedisManager needs to know.
// It is compiled into the script's text rather than sent with every call:
// each argument costs the client a conversion and Redis an object per
// request, and a script specialised to its codec runs only its own branch.
type loadConfig struct {
	expire   time.Duration // the idle timeout (Options.Expire)
	lead     string        // the bytes a value of the codec starts with; "" = any
	mode     byte          // how to find the override and creation time: 'j' JSON, 'p' pickle, 0 neither
	absolute time.Duration // the absolute lifetime; 0 = none
	touch    time.Duration // the touch interval when the user index is kept; 0 = no index
}

// newLoadScript returns the load script for c. It reads KEYS[1] and, when
// it is a session value of the codec (its first byte is one of c.lead, or
// c.lead is empty), sets its TTL to the session's stored expiry override or
// to c.expire, cut at the session's absolute lifetime, and returns
// "TTL value" (the TTL in decimal, a space, the value: one bulk string costs
// the client fewer allocations than an array). A tombstone is returned as
// "-1 value", untouched; anything else (a missing key, another type,
// another format, a session past its absolute lifetime) as nil, untouched.
//
// With mode 'j' the override is read by decoding a JSON value with cjson
// when it contains the override's key name, and the creation time by
// matching the compact "_wsess_created":N; with 'p' both are the integer
// after the key in a pickle (protocol 2+). ARGV[1] is now, in Unix
// seconds: the TTL never runs past created + c.absolute.
//
// With c.touch set, KEYS[2] is the session's last-seen marker: a value that
// names a user (Login) whose marker is gone sets it for c.touch and gets a
// "t" after its TTL, telling the caller to record last-seen in the user's
// index. The Go side checks the TTL against what it decodes and corrects it
// at commit in the rare case they differ.
func newLoadScript(c loadConfig) *redis.Script {
	return redis.NewScript(loadScriptSource(c))
}

// loadScriptSource returns the text of newLoadScript(c).
func loadScriptSource(c loadConfig) string {
	var b strings.Builder
	b.WriteString(`local v = redis.pcall('GET', KEYS[1])
if type(v) ~= 'string' then return false end
local c = string.byte(v, 1)
if c == nil then return false end
if c == 0 then return '-1 ' .. v end
`)
	if c.lead != "" {
		// Byte comparisons: cheaper for Redis than a string.find of
		// string.char(c).
		b.WriteString("if ")
		for i := 0; i < len(c.lead); i++ {
			if i > 0 {
				b.WriteString(" and ")
			}
			b.WriteString("c ~= " + strconv.Itoa(int(c.lead[i])))
		}
		b.WriteString(" then return false end\n")
	}
	b.WriteString("local ttl = " + strconv.FormatInt(int64(c.expire/time.Second), 10) + "\nlocal e, created\n")
	abs := int64(c.absolute / time.Second)
	switch c.mode {
	case 'j':
		b.WriteString(`if string.find(v, '"_expires_after"', 1, true) then
  local ok, t = pcall(cjson.decode, v)
  if ok and type(t) == 'table' then e = t['_expires_after'] end
end
`)
		if abs > 0 {
			// A plain find, then a match anchored after it: an unanchored
			// pattern costs Redis a match attempt at every byte.
			b.WriteString(`local ci = string.find(v, '"_wsess_created":', 1, true)
if ci then created = tonumber(string.match(v, '^%d+', ci + 17)) end
`)
		}
	case 'p':
		// pint reads the integer a pickle stores right after the string
		// name (SHORT_BINUNICODE or BINUNICODE, then an optional MEMOIZE,
		// BINPUT or LONG_BINPUT; then BININT1, BININT2 or a non-negative
		// BININT).
		b.WriteString(`local function pint(name)
  local i = string.find(v, name, 1, true)
  if not i then return nil end
  local n = #name
  if not (string.sub(v, i - 2, i - 1) == '\140' .. string.char(n) or string.sub(v, i - 5, i - 1) == 'X' .. string.char(n) .. '\0\0\0') then return nil end
  local j = i + n
  local op = string.sub(v, j, j)
  if op == '\148' then j = j + 1 elseif op == 'q' then j = j + 2 elseif op == 'r' then j = j + 5 end
  op = string.sub(v, j, j)
  local b1, b2, b3, b4 = string.byte(v, j + 1, j + 4)
  if op == 'K' and b1 then return b1
  elseif op == 'M' and b2 then return b1 + b2 * 256
  elseif op == 'J' and b4 and b4 < 128 then return b1 + b2 * 256 + b3 * 65536 + b4 * 16777216
  end
  return nil
end
e = pint('_expires_after')
`)
		if abs > 0 {
			b.WriteString("created = pint('_wsess_created')\n")
		}
	}
	b.WriteString("if type(e) == 'number' and e >= 1 and e < 9e9 and e == math.floor(e) then ttl = e end\n")
	if abs > 0 && c.mode != 0 {
		b.WriteString(`if created then
  local left = created + ` + strconv.FormatInt(abs, 10) + ` - tonumber(ARGV[1])
  if left <= 0 then return false end
  if left < ttl then ttl = left end
end
`)
	}
	b.WriteString("redis.call('EXPIRE', KEYS[1], ttl)\n")
	if c.touch > 0 {
		b.WriteString(`if string.find(v, '_wsess_user', 1, true) and redis.call('EXISTS', KEYS[2]) == 0 then
  redis.call('SET', KEYS[2], '1', 'PX', math.min(` + strconv.FormatInt(c.touch.Milliseconds(), 10) + `, ttl * 1000))
  return string.format('%dt ', ttl) .. v
end
`)
	}
	b.WriteString("return string.format('%d ', ttl) .. v\n")
	return b.String()
}
