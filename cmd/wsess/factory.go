package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"
)

// Defaults and environment variables of the shared flags.
const (
	defaultRedisURL = "redis://127.0.0.1:6379/0"
	envRedisURL     = "WSESS_REDIS_URL"
	envRedisCluster = "WSESS_REDIS_CLUSTER"
	envKey          = "WSESS_KEY"
	envKeyFile      = "WSESS_KEY_FILE"
)

// factory carries what every command needs: the streams, a clock, the
// environment, and a Redis client built on first use from the shared
// persistent flags. One factory is made per run; nothing is global.
type factory struct {
	IOStreams *IOStreams
	// Now is the clock (time.Now outside tests).
	Now func() time.Time
	// LookupEnv reads the environment (os.LookupEnv outside tests).
	LookupEnv func(string) (string, bool)
	// ReadFile reads a file (os.ReadFile outside tests).
	ReadFile func(string) ([]byte, error)

	// redis holds the values of --redis-url and --cluster, bound by the
	// root command's persistent flags.
	redis redisFlags

	once   sync.Once
	client redis.UniversalClient
	cerr   error
}

type redisFlags struct {
	url        string
	urlSet     func() bool // whether --redis-url was given
	cluster    []string
	clusterSet func() bool // whether --cluster was given
}

func newFactory(ios *IOStreams, lookupEnv func(string) (string, bool)) *factory {
	if lookupEnv == nil {
		lookupEnv = func(string) (string, bool) { return "", false }
	}
	return &factory{
		IOStreams: ios,
		Now:       time.Now,
		LookupEnv: lookupEnv,
		ReadFile:  os.ReadFile,
		redis: redisFlags{
			url:        defaultRedisURL,
			urlSet:     func() bool { return false },
			clusterSet: func() bool { return false },
		},
	}
}

// env returns a non-empty environment variable.
func (f *factory) env(name string) (string, bool) {
	v, ok := f.LookupEnv(name)
	if !ok || strings.TrimSpace(v) == "" {
		return "", false
	}
	return v, true
}

// addRedisFlags registers --redis-url and --cluster as persistent flags of
// cmd (the root), bound to the factory.
func (f *factory) addRedisFlags(cmd *cobra.Command) {
	fl := cmd.PersistentFlags()
	fl.StringVar(&f.redis.url, "redis-url", defaultRedisURL,
		"Redis server `URL`: redis://, rediss:// or unix://; Sentinels: redis://host:26379/0?master_name=NAME&addr=host2:26379 (env "+envRedisURL+")")
	fl.StringSliceVar(&f.redis.cluster, "cluster", nil,
		"Redis Cluster node `addresses`, host:port,... (env "+envRedisCluster+")")
	f.redis.urlSet = func() bool { return fl.Changed("redis-url") }
	f.redis.clusterSet = func() bool { return fl.Changed("cluster") }
}

// RedisURL is the Redis URL after flags > env > default.
func (f *factory) RedisURL() string {
	if f.redis.urlSet() {
		return f.redis.url
	}
	if v, ok := f.env(envRedisURL); ok {
		return strings.TrimSpace(v)
	}
	return defaultRedisURL
}

// RedisCluster is the list of cluster addresses after flags > env (none by
// default: a single node).
func (f *factory) RedisCluster() []string {
	var addrs []string
	if f.redis.clusterSet() {
		addrs = f.redis.cluster
	} else if v, ok := f.env(envRedisCluster); ok {
		addrs = strings.Split(v, ",")
	}
	out := addrs[:0:0]
	for _, a := range addrs {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}

// clusterGiven reports whether --cluster or a non-blank
// WSESS_REDIS_CLUSTER was given, even when it names no address.
func (f *factory) clusterGiven() bool {
	if f.redis.clusterSet() {
		return true
	}
	v, ok := f.env(envRedisCluster)
	return ok && strings.TrimSpace(v) != ""
}

// RedisClient returns the Redis client, built on the first call. With
// cluster addresses it is a cluster client, which takes the username,
// password and TLS settings of the Redis URL; otherwise a single-node client
// for the URL.
func (f *factory) RedisClient() (redis.UniversalClient, error) {
	f.once.Do(func() { f.client, f.cerr = f.newRedisClient() })
	return f.client, f.cerr
}

func (f *factory) newRedisClient() (redis.UniversalClient, error) {
	if raw := f.RedisURL(); isSentinelURL(raw) {
		return f.newSentinelClient(raw)
	}
	opt, err := parseRedisURL(f.RedisURL())
	if err != nil {
		return nil, err
	}
	// Honour the command's context deadlines (Ctrl-C, --timeout).
	opt.ContextTimeoutEnabled = true
	addrs := f.RedisCluster()
	if len(addrs) == 0 && f.clusterGiven() {
		return nil, newUsageError("give the cluster's nodes as host:port,host:port (--cluster or "+envRedisCluster+")", "--cluster names no address")
	}
	for _, a := range addrs {
		if problem := addrProblem(a); problem != "" {
			// Cluster addresses hold no password: the address is shown.
			return nil, newUsageError("give the cluster's nodes as host:port,host:port (--cluster or "+envRedisCluster+")", "cluster address %q: %s", a, problem)
		}
	}
	if len(addrs) > 0 {
		return redis.NewClusterClient(&redis.ClusterOptions{
			Addrs:                 addrs,
			Username:              opt.Username,
			Password:              opt.Password,
			TLSConfig:             opt.TLSConfig,
			ContextTimeoutEnabled: true,
		}), nil
	}
	return redis.NewClient(opt), nil
}

// isSentinelURL reports whether raw is go-redis's failover URL: a redis://
// or rediss:// URL naming Sentinels, with a master_name query parameter.
func isSentinelURL(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && (u.Scheme == "redis" || u.Scheme == "rediss") && u.Query().Has("master_name")
}

// sentinelHint is the advice of the usage errors about a Sentinel URL.
const sentinelHint = "a Sentinel URL is redis://[user:password@]sentinel:26379/0?master_name=NAME[&addr=sentinel2:26379][&password=MASTER_PASSWORD] (--redis-url or " + envRedisURL + ")"

// newSentinelClient returns a client for the master that the Sentinels of
// the failover URL raw name, following failovers. It first asks the
// Sentinels for the master, with short timeouts, so that a wrong address
// or master name fails within seconds and says which (go-redis would
// retry for half a minute). No part of raw is ever shown, but for the
// Sentinels' addresses and the master's name.
func (f *factory) newSentinelClient(raw string) (redis.UniversalClient, error) {
	if f.clusterGiven() {
		return nil, newUsageError("use one of them", "--cluster and a Sentinel URL (master_name=) cannot be used together")
	}
	bad := func(problem string) error {
		return &usageError{err: fmt.Errorf("%w: %s (the URL is not shown: it may hold a password)", errBadRedisURL, problem), hint: sentinelHint}
	}
	if missingSlashes(raw) {
		return nil, bad("the scheme is not followed by //")
	}
	fo, err := redis.ParseFailoverURL(raw)
	if err != nil {
		return nil, bad("a Sentinel URL option is invalid")
	}
	switch {
	case fo.MasterName == "":
		return nil, bad("master_name is empty")
	case fo.DB < 0:
		return nil, bad("the database number is negative")
	}
	for _, a := range fo.SentinelAddrs {
		if problem := addrProblem(a); problem != "" {
			return nil, bad("a Sentinel address: " + problem)
		}
	}
	fo.ContextTimeoutEnabled = true
	if err := askSentinels(fo); err != nil {
		return nil, err
	}
	return redis.NewFailoverClient(fo), nil
}

// askSentinels asks each Sentinel of fo for its master's address, with
// short timeouts, and returns nil as soon as one names it; otherwise a
// failure that says what was wrong: no Sentinel answered, or none knows
// the master's name.
func askSentinels(fo *redis.FailoverOptions) error {
	var lastErr error
	unknown := false
	for _, addr := range fo.SentinelAddrs {
		c := redis.NewSentinelClient(&redis.Options{Addr: addr, Username: fo.SentinelUsername, Password: fo.SentinelPassword,
			TLSConfig: fo.TLSConfig, DialTimeout: 2 * time.Second, ReadTimeout: 2 * time.Second, MaxRetries: -1})
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		_, err := c.GetMasterAddrByName(ctx, fo.MasterName).Result()
		cancel()
		_ = c.Close()
		if err == nil {
			return nil
		}
		if errors.Is(err, redis.Nil) {
			unknown = true
			continue
		}
		lastErr = err
	}
	at := strings.Join(fo.SentinelAddrs, ", ")
	if unknown {
		return withHint(fmt.Errorf("the Redis Sentinel at %s knows no master named %q", at, fo.MasterName),
			"check master_name= in --redis-url / "+envRedisURL+" (redis-cli -p PORT SENTINEL MASTERS lists them)")
	}
	// Not wrapped: explainRedisError would name a refused Sentinel as a
	// redis-server.
	return withHint(fmt.Errorf("cannot reach Redis Sentinel at %s: %s", at, sentinelCause(lastErr)),
		"check --redis-url / "+envRedisURL+" and that redis-sentinel is running")
}

// sentinelCause is err in a few words: the refused connection or the
// timeout it is, else Redis's reply.
func sentinelCause(err error) string {
	var op *net.OpError
	switch {
	case errors.As(err, &op) && errors.Is(op.Err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, context.DeadlineExceeded), os.IsTimeout(err):
		return "no answer within 3 s"
	}
	return err.Error()
}

// errBadRedisURL is the cause of every usage error about the Redis URL.
var errBadRedisURL = errors.New("invalid Redis URL")

// parseRedisURL parses a Redis URL. Its error never holds any part of raw
// (which may hold a password, quoted, escaped or misplaced by a typo): it
// names the part of the URL that is wrong, and nothing of its text.
func parseRedisURL(raw string) (*redis.Options, error) {
	opt, err := redis.ParseURL(raw)
	if err == nil && !missingSlashes(raw) {
		if opt.DB < 0 {
			// go-redis selects no database for a negative number: the
			// commands would run on database 0, which the URL did not name.
			return nil, badRedisURL("the database number is negative")
		}
		if opt.Network != "unix" {
			if problem := addrProblem(opt.Addr); problem != "" {
				return nil, badRedisURL(problem)
			}
		}
		return opt, nil
	}
	return nil, badRedisURL(redisURLProblem(raw))
}

// badRedisURL is the usage error about a Redis URL whose problem is
// described by problem, in fixed words (never the URL's text).
func badRedisURL(problem string) error {
	return &usageError{
		err:  fmt.Errorf("%w: %s (the URL is not shown: it may hold a password)", errBadRedisURL, problem),
		hint: "use redis://[user:password@]host:port/db, rediss://... or unix:///path/to/socket (--redis-url or " + envRedisURL + ")",
	}
}

// addrProblem says what is wrong with a host:port address, in fixed words,
// or "" when nothing is: the port must be a number from 1 to 65535.
func addrProblem(addr string) string {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "the address is not host:port"
	}
	n, err := strconv.Atoi(port)
	if err != nil || !isDigits(port) {
		return "the port is not a number"
	}
	if n < 1 || n > 65535 {
		return "the port is not from 1 to 65535"
	}
	return ""
}

// redisURLProblem says which part of a Redis URL that does not parse is
// wrong, in fixed words: it looks at the URL's structure and never returns
// text taken from it or from a parser's error (url.Error quotes the whole
// URL; go-redis quotes the parts it rejects).
func redisURLProblem(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		var (
			esc  url.EscapeError
			host url.InvalidHostError
		)
		switch msg := err.Error(); {
		case errors.As(err, &esc):
			return "a %-escape is malformed (write % as %25)"
		case errors.As(err, &host):
			return "the host has a character a host cannot have"
		case strings.Contains(msg, "invalid port"):
			return "the port is not a number"
		case strings.Contains(msg, "invalid userinfo"):
			return "the user or password has a character that must be %-escaped"
		case strings.Contains(msg, "missing protocol scheme"), strings.Contains(msg, "first path segment"):
			return "it has no scheme (redis://, rediss:// or unix://)"
		case strings.Contains(msg, "control character"):
			return "it holds a control character"
		}
		return "it does not parse as a URL"
	}
	switch u.Scheme {
	case "redis", "rediss":
		switch {
		case missingSlashes(raw):
			return "the scheme is not followed by // (write " + u.Scheme + "://host:port/db)"
		case u.Host == "" && u.User != nil:
			return "no host after the user and password"
		case u.Path != "" && u.Path != "/" && !isDigits(strings.TrimPrefix(u.Path, "/")):
			return "the path is not a database number"
		}
		return "a query option or the database number is invalid"
	case "unix":
		if u.Path == "" {
			return "no socket path (write unix:///path/to/socket)"
		}
		return "a query option is invalid"
	case "":
		return "it has no scheme (redis://, rediss:// or unix://)"
	}
	return "the scheme is not redis, rediss or unix"
}

// missingSlashes reports a redis: or rediss: URL without the // before the
// host ("redis:user:pw@host" or "redis:/0"), which go-redis reads as a
// connection to localhost: a typo, not a server.
func missingSlashes(raw string) bool {
	scheme, rest, ok := strings.Cut(raw, ":")
	scheme = strings.ToLower(scheme)
	return ok && (scheme == "redis" || scheme == "rediss") && !strings.HasPrefix(rest, "//")
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// describeRedis names the server a client talks to, for messages:
// scheme://host:port/db with any user and password replaced by "xxxxx",
// built from the client's options, never from the URL text it came from.
func describeRedis(rdb redis.UniversalClient) string {
	switch c := rdb.(type) {
	case *redis.Client:
		o := c.Options()
		if o.Addr == "FailoverClient" { // go-redis's name for a Sentinel-managed client
			return "the master of the Redis Sentinels"
		}
		auth := ""
		if o.Username != "" || o.Password != "" {
			auth = "xxxxx@"
		}
		if o.Network == "unix" {
			return "unix://" + auth + o.Addr
		}
		scheme := "redis"
		if o.TLSConfig != nil {
			scheme = "rediss"
		}
		return fmt.Sprintf("%s://%s%s/%d", scheme, auth, o.Addr, o.DB)
	case *redis.ClusterClient:
		return "the cluster " + strings.Join(c.Options().Addrs, ",")
	}
	return "the Redis server"
}

// CloseRedis closes the client if one was built.
func (f *factory) CloseRedis() error {
	if f.client != nil {
		return f.client.Close()
	}
	return nil
}

// errNoKey is returned when no secret was given anywhere.
var errNoKey = errors.New("no secret key given")

// noKeyHint says where a secret can come from.
const noKeyHint = "set " + envKey + ", or pass --key-file FILE (one secret a line)"

// Secrets resolves the secrets: --key values then --key-file lines when
// either flag is given, otherwise WSESS_KEY_FILE, otherwise WSESS_KEY.
// The result may be empty; callers that need a secret check for that.
func (f *factory) Secrets(k keyFlags) ([]string, error) {
	var secrets []string
	for _, key := range k.keys {
		if key == "" {
			return nil, newUsageError("give a non-empty value", "--key is empty")
		}
		secrets = append(secrets, key)
	}
	file := k.keyFile
	if file == "" && len(k.keys) == 0 {
		file, _ = f.env(envKeyFile)
	}
	if file != "" {
		fromFile, err := f.readKeyFile(file)
		if err != nil {
			return nil, err
		}
		secrets = append(secrets, fromFile...)
	}
	if len(secrets) == 0 {
		if v, ok := f.LookupEnv(envKey); ok && v != "" {
			secrets = append(secrets, v)
		}
	}
	return secrets, nil
}

// readKeyFile reads one secret a line; surrounding blanks are trimmed,
// blank lines and lines starting with # are skipped.
func (f *factory) readKeyFile(path string) ([]string, error) {
	data, err := f.ReadFile(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, withHint(fmt.Errorf("cannot read key file %s: %w", path, err),
			"check the --key-file path")
	}
	var secrets []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		secrets = append(secrets, line)
	}
	if err := sc.Err(); err != nil {
		return nil, withHint(fmt.Errorf("cannot read key file %s: %w", path, err),
			"put one secret a line")
	}
	if len(secrets) == 0 {
		return nil, withHint(fmt.Errorf("key file %s holds no secret", path),
			"put one secret a line (lines starting with # are comments)")
	}
	return secrets, nil
}

// redisDB is the database number of the Redis client, for error messages:
// -1 when no single-node client was built.
func (f *factory) redisDB() int {
	if c, ok := f.client.(*redis.Client); ok {
		return c.Options().DB
	}
	return -1
}
