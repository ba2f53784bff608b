package pycookie

import "testing"

func seedCookies(f *testing.F, format string) {
	for _, v := range cookieVectors(f) {
		if v.Format == format {
			f.Add(v.Cookie, v.Key)
		}
	}
	f.Add("", "")
	f.Add(":", "k")
	f.Add("::", "k")
}

func FuzzOpenWeppy(f *testing.F) {
	seedCookies(f, "weppy")
	f.Fuzz(func(t *testing.T, cookie, key string) {
		pk, err := OpenWeppy(cookie, key)
		if err == nil && len(pk) > DefaultMaxDecompressed+len(cookie) {
			t.Fatalf("payload of %d bytes", len(pk))
		}
	})
}

func FuzzOpenEmmett(f *testing.F) {
	seedCookies(f, "emmett")
	f.Fuzz(func(t *testing.T, cookie, key string) {
		pk, err := OpenEmmett(cookie, key)
		if err == nil && len(pk) > DefaultMaxDecompressed+len(cookie) {
			t.Fatalf("payload of %d bytes", len(pk))
		}
	})
}
