package main

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wsess/wsess/internal/manager"
	"github.com/wsess/wsess/internal/redistest"
	"github.com/wsess/wsess/pkg/session"
)

// anonymousSession stores one anonymous session through srv and returns
// its id.
func anonymousSession(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, ck := range resp.Cookies() {
		if ck.Name == session.DefaultIDCookieName {
			return ck.Value
		}
	}
	t.Fatal("no session cookie")
	return ""
}

// TestRedisDoctor: on a store an app built on the library wrote, doctor
// finds nothing; with one of each problem planted, it counts each exactly
// once and exits 1; --fix repairs all but raw_id (which only the app can
// move), and a second run finds only that. On a single node and on a
// 3-master cluster.
func TestRedisDoctor(t *testing.T) {
	for _, backend := range redisBackends() {
		t.Run(backend.name, func(t *testing.T) {
			rdb, conn := backend.start(t)
			ctx := context.Background()
			srv := newLibraryApp(t, rdb, loginByQuery)
			ana := loginSessions(t, srv, "ana", 3)
			loginSessions(t, srv, "bob", 1)
			anon := newLibraryApp(t, rdb, counter41)
			anonID := anonymousSession(t, anon.URL)
			cli := func(args ...string) cliResult {
				return runRedis(t, false, "", append(append([]string{}, conn...), append([]string{"redis", "doctor"}, args...)...)...)
			}
			counts := func() map[string]int64 {
				t.Helper()
				r := cli("-o", "json")
				var rows []struct {
					Problem string `json:"problem"`
					Count   int64  `json:"count"`
				}
				if err := json.Unmarshal([]byte(r.Stdout), &rows); err != nil {
					t.Fatalf("doctor -o json: exit %d, %v: %q %q", r.Code, err, r.Stdout, r.Stderr)
				}
				if len(rows) != len(manager.Problems) {
					t.Fatalf("%d rows, want one per problem", len(rows))
				}
				got := map[string]int64{}
				var total int64
				for _, x := range rows {
					got[x.Problem] = x.Count
					total += x.Count
				}
				if wantCode := map[bool]int{true: 1, false: 0}[total > 0]; r.Code != wantCode {
					t.Fatalf("exit %d with %d problems, want %d; stderr %q", r.Code, total, wantCode, r.Stderr)
				}
				return got
			}
			if got := counts(); sum(got) != 0 {
				t.Fatalf("a healthy store: %v", got)
			}

			const p = "wppsess:"
			idx := doctorIndex
			now := time.Now()
			must := func(err error) {
				t.Helper()
				if err != nil {
					t.Fatal(err)
				}
			}
			marker := plantDoctorProblems(t, rdb, ana, anonID, now)

			got := counts()
			for _, pr := range manager.Problems {
				if got[string(pr)] != 1 {
					t.Errorf("%s: counted %d, want 1 (all: %v)", pr, got[string(pr)], got)
				}
			}
			if t.Failed() {
				return
			}
			// A dry run changes nothing.
			if r := cli("--fix", "--dry-run"); r.Code != 1 || !strings.Contains(r.Stderr, "--fix would make 10 repairs (dry run") {
				t.Fatalf("--fix --dry-run: exit %d, %q", r.Code, r.Stderr)
			}
			if got := counts(); sum(got) != int64(len(manager.Problems)) {
				t.Fatalf("after the dry run: %v", got)
			}
			r := cli("--fix", "--yes")
			lines := strings.Split(strings.TrimSuffix(r.Stdout, "\n"), "\n")
			last := lines[len(lines)-1]
			if r.Code != 1 || len(lines) != len(manager.Problems)+1 || !strings.HasPrefix(last, "Repaired: ") || strings.Count(last, ", ") != 9 ||
				r.Stderr != "wsess: 1 key not repaired (raw_id): the app must move those sessions\n" {
				t.Fatalf("--fix: exit %d, %q %q", r.Code, r.Stdout, r.Stderr)
			}
			got = counts()
			if got["raw_id"] != 1 || sum(got) != 1 {
				t.Fatalf("after --fix: %v, want only the raw id", got)
			}
			// What the repairs left.
			if _, err := rdb.ZScore(ctx, idx("ana"), session.HashID(ana[0])).Result(); err != nil {
				t.Errorf("the unlisted session is not listed again: %v", err)
			}
			if sc := rdb.ZScore(ctx, idx("ana"), session.HashID(ana[1])).Val(); time.UnixMilli(int64(sc)).Before(now.Add(30 * time.Minute)) {
				t.Errorf("the short entry was not raised: %v", time.UnixMilli(int64(sc)))
			}
			for key, want := range map[string]func(time.Duration) bool{
				idx("bob"):                    func(d time.Duration) bool { return d > 0 },
				marker:                        func(d time.Duration) bool { return d > 0 && d <= 5*time.Minute },
				p + session.HashID(anonID):    func(d time.Duration) bool { return d > 0 && d <= time.Hour },
				p + session.HashID("renamed"): func(d time.Duration) bool { return d > 0 && d <= 5*time.Minute },
				"wsess:revoked:" + session.HashID("carol"): func(d time.Duration) bool { return d > 0 },
				p + session.HashID("lapsed"):               func(d time.Duration) bool { return d == -2 },
			} {
				if d := rdb.PTTL(ctx, key).Val(); !want(d) {
					t.Errorf("%s: PTTL %v after --fix", key, d)
				}
			}
			must(rdb.Del(ctx, p+"7c9e6679-7425-40de-944b-e07fc1f90ae7").Err())
			if got := counts(); sum(got) != 0 {
				t.Fatalf("after --fix and the raw key's removal: %v", got)
			}
		})
	}
}

// doctorIndex is the key of user's index under "wppsess:".
func doctorIndex(user string) string { return "{wppsess:u:" + session.HashID(user) + "}" }

// plantDoctorProblems plants one of each problem doctor finds under
// "wppsess:", in a store where ana (whose session ids are ana) is logged in
// three times and bob once, and anonID is an anonymous session. It returns
// the last-seen marker it leaves without a TTL.
func plantDoctorProblems(t *testing.T, rdb redis.UniversalClient, ana []string, anonID string, now time.Time) string {
	t.Helper()
	ctx := context.Background()
	const p = "wppsess:"
	idx := doctorIndex
	fake := session.HashID("a session that never was")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(rdb.ZRem(ctx, idx("ana"), session.HashID(ana[0])).Err())                                 // not_listed
	must(rdb.ZAddXX(ctx, idx("ana"), redisZ(now.Add(time.Second), session.HashID(ana[1]))).Err()) // listed_short
	must(rdb.ZAdd(ctx, idx("ana"), redisZ(now.Add(time.Hour), fake)).Err())                       // entry_gone
	must(rdb.HSet(ctx, idx("ana")+":m", session.HashID("another never"), `{"c":1}`).Err())        // meta_gone
	must(rdb.Persist(ctx, idx("bob")).Err())                                                      // index_no_ttl
	marker := "{" + p + session.HashID(ana[2]) + "}:seen:" + p + session.HashID(ana[2])
	must(rdb.Set(ctx, marker, "1", 0).Err())               // marker_no_ttl
	must(rdb.Persist(ctx, p+session.HashID(anonID)).Err()) // key_no_ttl
	old := `{"counter":1,"_wsess_created":` + strconv.FormatInt(now.Add(-25*time.Hour).Unix(), 10) + `}`
	must(rdb.Set(ctx, p+session.HashID("lapsed"), old, time.Hour).Err())                                          // past_lifetime
	must(rdb.Set(ctx, p+session.HashID("renamed"), "\x00wsess:renamed:"+session.HashID(ana[2]), time.Hour).Err()) // tombstone_ttl
	must(rdb.Set(ctx, p+"7c9e6679-7425-40de-944b-e07fc1f90ae7", `{"a":1}`, time.Hour).Err())                      // raw_id
	must(rdb.Set(ctx, "wsess:revoked:"+session.HashID("carol"), "1747489470000", 0).Err())                        // revocation_no_ttl
	return marker
}

// TestRedisDoctorFlags: --fix needs --yes off a terminal; --dry-run only
// with --fix.
func TestRedisDoctorFlags(t *testing.T) {
	for _, tt := range []struct {
		args []string
		line string
	}{
		{[]string{"--fix"}, "wsess: refusing to repair the store without --yes when not on a terminal; pass --yes to repair without a prompt (or --dry-run)\n"},
		{[]string{"--dry-run"}, "wsess: --dry-run lists what --fix would do; use it with --fix\n"},
		{[]string{"--ttl", "0s"}, "wsess: --ttl 0s is shorter than a second; give 1s or more, e.g. --ttl 1h\n"},
	} {
		r := runRedis(t, false, "", append([]string{"--redis-url", "redis://127.0.0.1:1/0", "redis", "doctor"}, tt.args...)...)
		if r.Code != 2 || r.Stderr != tt.line {
			t.Errorf("%q: exit %d, %q; want 2, %q", tt.args, r.Code, r.Stderr, tt.line)
		}
	}
}

func sum(m map[string]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}

// redisZ is a sorted-set member whose score is t in Unix ms, as the index
// keeps entries.
func redisZ(t time.Time, member string) redis.Z {
	return redis.Z{Score: float64(t.UnixMilli()), Member: member}
}

// TestRedisDoctorInterrupted: a paced walk stopped by Ctrl-C (the command's
// context) says so in one line, exits 1, and changes nothing.
func TestRedisDoctorInterrupted(t *testing.T) {
	const n = 10_000
	s := redistest.Start(t, redistest.Options{})
	c := s.Client()
	fillUsers(t, c, "p:", n) // no TTL: key_no_ttl for every one, had the walk finished
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan cliResult, 1)
	go func() {
		done <- runRedisCtx(t, ctx, "--redis-url", s.URL(), "redis", "doctor", "--prefix", "p:", "--fix", "--yes", "--rate", "2000")
	}()
	time.Sleep(500 * time.Millisecond) // the walk takes 5 s at --rate 2000
	cancel()
	r := <-done
	if r.Code != 1 || r.Stdout != "" || r.Stderr != "wsess: interrupted; the walk stopped before the indexes were read: nothing was reported or changed; run it again\n" {
		t.Fatalf("interrupted: exit %d, %q %q", r.Code, r.Stdout, r.Stderr)
	}
	if ttl := c.TTL(context.Background(), "p:s000001").Val(); ttl != -1 {
		t.Fatalf("a key got TTL %v from an interrupted walk", ttl)
	}
}

// goldenID is a fixed session id (43 characters of base64url, like
// pkg/session's) named by name, for the doctor golden files.
func goldenID(name string) string {
	sum := sha256.Sum256([]byte("doctor golden " + name))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// doctorGoldenStore writes, with fixed ids, what an app on pkg/session
// leaves under "wppsess:" (logged-in sessions listed in their user's index
// with metadata, both keys expiring with the last entry): ana logged in
// three times, bob once, and one anonymous session. It returns ana's
// session ids and the anonymous one's.
func doctorGoldenStore(t *testing.T, rdb redis.UniversalClient, now time.Time) (ana []string, anon string) {
	t.Helper()
	ctx := context.Background()
	const p = "wppsess:"
	pipe := rdb.Pipeline()
	login := func(user string, n int) []string {
		var ids []string
		until := now.Add(time.Hour + time.Minute) // the TTL and the touch interval
		for i := range n {
			id := goldenID(fmt.Sprintf("%s %d", user, i))
			h := session.HashID(id)
			pipe.Set(ctx, p+h, fmt.Sprintf(`{"counter":%d,"_wsess_user":%q,"_wsess_created":%d}`, i+1, user, now.Unix()), time.Hour)
			pipe.ZAdd(ctx, doctorIndex(user), redisZ(until, h))
			pipe.HSet(ctx, doctorIndex(user)+":m", h, fmt.Sprintf(`{"c":%d}`, now.Unix()))
			ids = append(ids, id)
		}
		pipe.PExpireAt(ctx, doctorIndex(user), until)
		pipe.PExpireAt(ctx, doctorIndex(user)+":m", until)
		return ids
	}
	ana = login("ana", 3)
	login("bob", 1)
	anon = goldenID("anonymous")
	pipe.Set(ctx, p+session.HashID(anon), `{"counter":41}`, time.Hour)
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	return ana, anon
}

// doctorProgress is doctor's progress line on a terminal (its rate depends
// on the machine), with the sequence that clears it.
var doctorProgress = regexp.MustCompile(`(\r\x1b\[K(\x1b\[[0-9;]*m)*scanned \d+  problems \d+  \d+ keys/s(\x1b\[[0-9;]*m)*)+\r\x1b\[K`)

// TestRedisDoctorGolden: doctor's report on a terminal, for a healthy store,
// for one with every problem planted, and for --fix --dry-run on it,
// against golden files (go test -update rewrites them). The progress line
// is shown as <progress>.
func TestRedisDoctorGolden(t *testing.T) {
	s := redistest.Start(t, redistest.Options{})
	rdb := s.Client()
	now := time.Now()
	ana, anon := doctorGoldenStore(t, rdb, now)
	doctor := func(name string, wantCode int, args ...string) {
		t.Helper()
		r := runRedis(t, true, "", append([]string{"--redis-url", s.URL(), "redis", "doctor"}, args...)...)
		if r.Code != wantCode {
			t.Errorf("%s: exit %d, want %d; stderr %q", name, r.Code, wantCode, r.Stderr)
		}
		out := fmt.Sprintf("$ %s\n%s--- stderr\n%s--- exit %d\n", strings.Join(append([]string{"wsess redis doctor"}, args...), " "), r.Stdout,
			doctorProgress.ReplaceAllString(r.Stderr, "<progress>"), r.Code)
		golden(t, name, []byte(out))
	}
	doctor("redis_doctor_healthy_tty.golden", 0)
	plantDoctorProblems(t, rdb, ana, anon, now)
	doctor("redis_doctor_problems_tty.golden", 1)
	doctor("redis_doctor_dry_run_tty.golden", 1, "--fix", "--dry-run")
}
