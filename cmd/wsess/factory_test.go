package main

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"
)

// parseRoot binds a factory to a root command and parses args.
func parseRoot(t *testing.T, env testEnv, args ...string) *factory {
	t.Helper()
	ios, _, _, _ := testIO()
	f := newFactory(ios, env.lookup)
	root := &cobra.Command{Use: "wsess", RunE: func(*cobra.Command, []string) error { return nil }}
	f.addRedisFlags(root)
	root.SetArgs(append([]string{}, args...)) // never nil: cobra would read os.Args
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestRedisConfigPrecedence(t *testing.T) {
	tests := []struct {
		name        string
		env         testEnv
		args        []string
		wantURL     string
		wantCluster []string
	}{
		{"default", nil, nil, defaultRedisURL, nil},
		{"env", testEnv{envRedisURL: "redis://env:1/2"}, nil, "redis://env:1/2", nil},
		{"blank env ignored", testEnv{envRedisURL: "  "}, nil, defaultRedisURL, nil},
		{"flag beats env", testEnv{envRedisURL: "redis://env:1/2"}, []string{"--redis-url", "unix:///tmp/r.sock"}, "unix:///tmp/r.sock", nil},
		{"cluster env", testEnv{envRedisCluster: "a:1, b:2,,c:3"}, nil, defaultRedisURL, []string{"a:1", "b:2", "c:3"}},
		{"cluster flag beats env", testEnv{envRedisCluster: "a:1"}, []string{"--cluster", "x:1,y:2", "--cluster", "z:3"}, defaultRedisURL, []string{"x:1", "y:2", "z:3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := parseRoot(t, tt.env, tt.args...)
			if got := f.RedisURL(); got != tt.wantURL {
				t.Errorf("RedisURL = %q, want %q", got, tt.wantURL)
			}
			if got := f.RedisCluster(); !reflect.DeepEqual(got, tt.wantCluster) && !(len(got) == 0 && len(tt.wantCluster) == 0) {
				t.Errorf("RedisCluster = %q, want %q", got, tt.wantCluster)
			}
		})
	}
}

func TestRedisClient(t *testing.T) {
	f := parseRoot(t, nil, "--redis-url", "rediss://u:pw@127.0.0.1:6390/3")
	c, err := f.RedisClient()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	rc, ok := c.(*redis.Client)
	if !ok {
		t.Fatalf("client is %T, want *redis.Client", c)
	}
	if o := rc.Options(); o.Addr != "127.0.0.1:6390" || o.DB != 3 || o.Password != "pw" || o.TLSConfig == nil {
		t.Errorf("options = %+v", o)
	}
	if c2, _ := f.RedisClient(); c2 != c {
		t.Error("RedisClient must build the client once")
	}

	f = parseRoot(t, testEnv{envRedisCluster: "127.0.0.1:7000,127.0.0.1:7001"}, "--redis-url", "redis://:pw@h:1")
	c, err = f.RedisClient()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cc, ok := c.(*redis.ClusterClient)
	if !ok {
		t.Fatalf("client is %T, want *redis.ClusterClient", c)
	}
	if o := cc.Options(); !reflect.DeepEqual(o.Addrs, []string{"127.0.0.1:7000", "127.0.0.1:7001"}) || o.Password != "pw" {
		t.Errorf("cluster options = %+v", o)
	}
}

func TestRedisClientBadURLHidesPassword(t *testing.T) {
	f := parseRoot(t, nil, "--redis-url", "http://user:hunter2-secret@host:1")
	_, err := f.RedisClient()
	var ue *usageError
	if !errors.As(err, &ue) {
		t.Fatalf("err = %v, want a usage error", err)
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error shows the password: %v", err)
	}
	if !errors.Is(err, errBadRedisURL) || !strings.Contains(err.Error(), "the scheme is not redis, rediss or unix") {
		t.Errorf("error should say which part is wrong: %v", err)
	}
}

func TestSecrets(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "keys")
	if err := os.WriteFile(keyFile, []byte("# rotation\n\n  new-secret  \r\nold-secret\n# end\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	envFile := filepath.Join(dir, "envkeys")
	if err := os.WriteFile(envFile, []byte("from-env-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		env  testEnv
		k    keyFlags
		want []string
	}{
		{"none", nil, keyFlags{}, nil},
		{"env", testEnv{envKey: "e"}, keyFlags{}, []string{"e"}},
		{"env file beats env", testEnv{envKey: "e", envKeyFile: envFile}, keyFlags{}, []string{"from-env-file"}},
		{"flags beat env", testEnv{envKey: "e", envKeyFile: envFile}, keyFlags{keys: []string{"a", "b"}}, []string{"a", "b"}},
		{"key file", testEnv{envKey: "e"}, keyFlags{keyFile: keyFile}, []string{"new-secret", "old-secret"}},
		{"keys then file", nil, keyFlags{keys: []string{"a"}, keyFile: keyFile}, []string{"a", "new-secret", "old-secret"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, _, _ := testIO()
			f := newFactory(ios, tt.env.lookup)
			got, err := f.Secrets(tt.k)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Secrets = %q, want %q", got, tt.want)
			}
		})
	}

	ios, _, _, _ := testIO()
	f := newFactory(ios, nil)
	_, err := f.Secrets(keyFlags{keyFile: filepath.Join(dir, "missing")})
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing key file: err = %v, want fs.ErrNotExist", err)
	}
	if _, err := f.Secrets(keyFlags{keys: []string{""}}); err == nil {
		t.Error("an empty --key must be refused")
	}
}
