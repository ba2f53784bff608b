#!/usr/bin/env bash
# Reproduces every number in BENCHMARKS.md and rewrites that file:
#
#   bench/run.sh            (or: make bench)
#
# Four parts, all on this machine, all against loopback only, each bounded:
#   inproc  bench/cmd/inproc (wsess vs gorilla/sessions vs scs, the bare
#           handler and the Redis floors; cookie and Redis stores, counter
#           and read-only requests) in ROUNDS rounds, one process each; in
#           a round each group of compared apps is served interleaved
#           request by request for BENCHTIME per app. The report judges each
#           target on the median over the rounds of its per-round paired
#           value and that median's 95 % bootstrap interval (met / missed /
#           unclear). Then, once: Redis round trips per request
#           (BenchmarkRoundTrips), the pkg/session management costs (COUNT
#           runs) and bench/cmd/rtcost
#   load    wrk against `wsess serve demo` (cookie, Redis) and the peers'
#           servers (bench/cmd/peerserver), many sessions and one shared one
#   scale   the wsess redis admin commands on 1,000,000 sessions beside
#           redis-cli and the bare floors of bench/cmd/scanfloor (a SCAN
#           loop; per batch one variadic UNLINK, or one script call that
#           sets the TTL of the batch, or of its keys without one)
#   cluster the same on a 3-master cluster (loopback) with 3,000,000
#           sessions: ls --keys-only, stats and expire --in against a floor
#           that scans all masters at once and against the serial sum of
#           the per-master walls
#
# Knobs (environment): PARTS ("inproc load scale cluster"), ROUNDS (12, at
# least 10 for the intervals the targets need), BENCHTIME (0.3s: one app
# in one round), SEED (1: the bootstrap's), COUNT (5: the
# pkg/session management benchmarks), WRK_DURATION (10s), WRK_CONNECTIONS (32), WRK_THREADS (2),
# SCALE_SESSIONS (1000000), SCALE_OTHERS (100000), SCALE_REPEAT (3),
# CLUSTER_SESSIONS (3000000), OUT (bench/out: raw
# results), REPORT (BENCHMARKS.md; empty: do not write it), WSESS_BIN (a
# prebuilt wsess binary instead of building ./cmd/wsess), PARTIAL_OK (set:
# write REPORT even when OUT lacks some part's raw results).
#
# Each part writes its raw results and OUT/meta-PART.txt (when, commit, load,
# settings, run time) into OUT; the report is made from all the parts found
# there, so a part run alone merges with the others' earlier results. When
# OUT lacks a part and REPORT is BENCHMARKS.md, the report goes to
# OUT/BENCHMARKS.partial.md instead, unless PARTIAL_OK is set.
#
# Exit status: 1 when an in-process target is missed (after writing the
# report), 0 otherwise; the load and scale verdicts (one run) never fail.
#
# Needs: go, redis-server, redis-cli; wrk and curl for load; /usr/bin/time
# (GNU time) for scale and cluster.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PARTS=${PARTS:-"inproc load scale cluster"}
ROUNDS=${ROUNDS:-12}
BENCHTIME=${BENCHTIME:-0.3s}
SEED=${SEED:-1}
COUNT=${COUNT:-5}
WRK_DURATION=${WRK_DURATION:-10s}
WRK_CONNECTIONS=${WRK_CONNECTIONS:-32}
WRK_THREADS=${WRK_THREADS:-2}
SCALE_SESSIONS=${SCALE_SESSIONS:-1000000}
SCALE_OTHERS=${SCALE_OTHERS:-100000}
SCALE_REPEAT=${SCALE_REPEAT:-3}
CLUSTER_SESSIONS=${CLUSTER_SESSIONS:-3000000}
PREFIX=${PREFIX:-"benchsess:"}
OUT=${OUT:-$ROOT/bench/out}
REPORT=${REPORT-$ROOT/BENCHMARKS.md}

has_part() { [[ " $PARTS " == *" $1 "* ]]; }
tools=(go redis-server redis-cli)
has_part load && tools+=(wrk curl)
{ has_part scale || has_part cluster; } && tools+=(/usr/bin/time)
for tool in "${tools[@]}"; do
  command -v "$tool" >/dev/null || { echo "run.sh: $tool is missing" >&2; exit 1; }
done

mkdir -p "$OUT"
TMP=$(mktemp -d /tmp/wsess-bench.XXXXXX)
REDIS_PID=""
SERVER_PID=""
CLUSTER_PIDS=()
cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
  [ -n "$REDIS_PID" ] && kill "$REDIS_PID" 2>/dev/null && wait "$REDIS_PID" 2>/dev/null
  for pid in "${CLUSTER_PIDS[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; done
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { printf 'run.sh: %s\n' "$*" >&2; }
START=$SECONDS

log "building"
if [ -n "${WSESS_BIN:-}" ]; then
  cp "$WSESS_BIN" "$TMP/wsess"
else
  (cd "$ROOT" && go build -o "$TMP/wsess" ./cmd/wsess)
fi
(cd "$ROOT/bench" && go build -o "$TMP/" ./cmd/...)

# One private redis-server for everything, no persistence, loopback only.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null ||
  echo $((20000 + RANDOM % 20000)); }
REDIS_PORT=$(free_port)
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no \
  --dir "$TMP" --logfile "$TMP/redis.log" &
REDIS_PID=$!
for _ in $(seq 100); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.05; done
RCLI=(redis-cli -h 127.0.0.1 -p "$REDIS_PORT")
"${RCLI[@]}" ping >/dev/null
REDIS_ADDR=127.0.0.1:$REDIS_PORT
REDIS_URL=redis://$REDIS_ADDR/0

commit() { (cd "$ROOT" && git describe --always --dirty 2>/dev/null || echo unknown); }
# part_start PART / part_end PART SETTINGS...: time a part and write its
# OUT/meta-PART.txt.
part_start() {
  PART_T0=$SECONDS
  PART_DATE=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  PART_LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
}
part_end() {
  local part=$1
  shift
  {
    echo "date=$PART_DATE"
    echo "commit=$(commit)"
    echo "load=$PART_LOAD"
    echo "settings=$*"
    echo "elapsed=$((SECONDS - PART_T0))s"
    [ "$part" = load ] && echo "wrkflags=-t$WRK_THREADS -c$WRK_CONNECTIONS -d$WRK_DURATION"
  } >"$OUT/meta-$part.txt"
  echo "elapsed_$part=$((SECONDS - PART_T0))s" >>"$OUT/machine.txt"
  log "$part took $((SECONDS - PART_T0)) s"
}

# The machine, for the report.
{
  echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "nproc=$(nproc)"
  echo "cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
  echo "mem=$(free -g | awk '/^Mem:/ {print $2 " GiB"}')"
  echo "go=$(go version | cut -d' ' -f3-)"
  echo "redis=$(redis-server --version | grep -o 'v=[^ ]*' | cut -d= -f2)"
  echo "wrk=$(command -v wrk >/dev/null && wrk --version 2>&1 | head -1 | cut -d' ' -f2 || echo none)"
  echo "kernel=$(uname -r)"
  echo "load=$(cut -d' ' -f1-3 /proc/loadavg)"
  echo "commit=$(commit)"
  echo "settings=ROUNDS=$ROUNDS BENCHTIME=$BENCHTIME SEED=$SEED COUNT=$COUNT WRK_DURATION=$WRK_DURATION WRK_CONNECTIONS=$WRK_CONNECTIONS WRK_THREADS=$WRK_THREADS SCALE_SESSIONS=$SCALE_SESSIONS SCALE_OTHERS=$SCALE_OTHERS SCALE_REPEAT=$SCALE_REPEAT CLUSTER_SESSIONS=$CLUSTER_SESSIONS"
  echo "wrkflags=-t$WRK_THREADS -c$WRK_CONNECTIONS -d$WRK_DURATION"
} >"$OUT/machine.txt"

# ---------------------------------------------------------------- inproc
if has_part inproc; then
  part_start
  log "in-process benchmarks: $ROUNDS rounds, $BENCHTIME per app and round"
  [ "$ROUNDS" -ge 10 ] || log "ROUNDS=$ROUNDS: the method wants at least 10 rounds; intervals need 5"
  (cd "$ROOT/bench" && go test -c -o "$TMP/bench.test" .)
  : >"$OUT/inproc.txt"
  for round in $(seq "$ROUNDS"); do
    # A comment line: benchstat ignores it, the report reads the round.
    echo "# round $round" >>"$OUT/inproc.txt"
    timeout 600 "$TMP/inproc" -round "$round" -time "$BENCHTIME" -redis-addr "$REDIS_ADDR" >>"$OUT/inproc.txt"
    log "  round $round of $ROUNDS done"
  done
  "${RCLI[@]}" flushall >/dev/null
  (cd "$ROOT/bench" && WSESS_BENCH_REDIS_ADDR=$REDIS_ADDR \
    timeout 600 "$TMP/bench.test" -test.run '^$' -test.bench '^BenchmarkRoundTrips$' \
    -test.benchmem -test.count 1 -test.benchtime "$BENCHTIME") >"$OUT/roundtrips.txt"
  "${RCLI[@]}" flushall >/dev/null
  log "session-management costs in pkg/session (count $COUNT, benchtime $BENCHTIME)"
  (cd "$ROOT" && timeout 600 go test -run '^$' -bench '^Benchmark(RedisManagement|CookieRevocation)$' \
    -benchmem -count "$COUNT" -benchtime "$BENCHTIME" ./pkg/session) >"$OUT/mgmt.txt"
  "$TMP/rtcost" -addr "$REDIS_ADDR" -n 5000 >"$OUT/rtcost.txt"
  "${RCLI[@]}" flushall >/dev/null
  part_end inproc "ROUNDS=$ROUNDS BENCHTIME=$BENCHTIME SEED=$SEED COUNT=$COUNT"
fi

# ---------------------------------------------------------------- load
# start_server NAME CMD...: starts a server that prints its URL on stderr.
start_server() {
  local name=$1
  shift
  : >"$TMP/$name.log"
  "$@" 2>"$TMP/$name.log" &
  SERVER_PID=$!
  URL=""
  for _ in $(seq 200); do
    URL=$(grep -o -m1 'http://127\.0\.0\.1:[0-9]*/' "$TMP/$name.log" || true)
    [ -n "$URL" ] && return 0
    sleep 0.05
  done
  echo "run.sh: $name did not start:" >&2
  cat "$TMP/$name.log" >&2
  exit 1
}
stop_server() {
  kill "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}
# run_wrk NAME CASE [COOKIE]: one bounded wrk run on /counter.
run_wrk() {
  local name=$1 case=$2 cookie=${3:-}
  # Four sessions per connection, sent round-robin: a session's previous
  # request has finished before it is sent again (see wrk/sessions.lua).
  local per=$((4 * ((WRK_CONNECTIONS + WRK_THREADS - 1) / WRK_THREADS)))
  local out from statuses
  from=$(wc -l <"$TMP/$name.log")
  out=$(WRK_COOKIE=$cookie timeout 120 wrk -t"$WRK_THREADS" -c"$WRK_CONNECTIONS" -d"$WRK_DURATION" \
    -s "$ROOT/bench/wrk/sessions.lua" "${URL}counter" -- "$per")
  echo "$out" >"$OUT/wrk-$name-$case.txt"
  sleep 0.2
  # HTTP statuses from the server's request log (time method path status ...).
  statuses=$(tail -n +$((from + 1)) "$TMP/$name.log" |
    awk '$2 == "GET" {n[$4]++} END {for (s in n) printf "%s%s:%d", (k++ ? "," : ""), s, n[s]}')
  printf '%s %s %s statuses=%s\n' "$name" "$case" "$(grep '^RESULT' <<<"$out" | cut -d' ' -f2-)" \
    "${statuses:-none}" >>"$OUT/load.txt"
}
if has_part load; then
  part_start
  log "load: wrk -t$WRK_THREADS -c$WRK_CONNECTIONS -d$WRK_DURATION per case"
  : >"$OUT/load.txt"
  export WSESS_KEY="bench-secret-0123456789abcdef-0123456789"
  servers=(
    "bare|$TMP/peerserver -lib bare"
    "wsess-cookie|$TMP/wsess serve demo --addr 127.0.0.1:0 --store cookie"
    "gorilla|$TMP/peerserver -lib gorilla"
    "scs-mem|$TMP/peerserver -lib scs-mem"
    "wsess-redis|$TMP/wsess serve demo --addr 127.0.0.1:0 --store redis --redis-url $REDIS_URL --prefix $PREFIX"
    "scs-redis|$TMP/peerserver -lib scs-redis -redis-addr $REDIS_ADDR"
  )
  for entry in "${servers[@]}"; do
    name=${entry%%|*}
    read -r -a cmd <<<"${entry#*|}"
    "${RCLI[@]}" flushall >/dev/null
    start_server "$name" "${cmd[@]}"
    run_wrk "$name" many
    cookie=""
    if [ "$name" != bare ]; then
      cookie=$(curl -s -o /dev/null -D - "${URL}counter" | tr -d '\r' |
        awk 'tolower($1)=="set-cookie:" {split($2, a, ";"); print a[1]; exit}')
    fi
    [ -n "$cookie" ] || [ "$name" = bare ] || { log "$name set no cookie"; exit 1; }
    run_wrk "$name" shared "${cookie:-x=y}"
    stop_server
    rm -f "$TMP/$name.log"
    log "  $name: $(grep "^$name " "$OUT/load.txt" | cut -d' ' -f2,5 | tr '\n' ' ')"
  done
  unset WSESS_KEY
  "${RCLI[@]}" flushall >/dev/null
  part_end load "WRK_DURATION=$WRK_DURATION WRK_CONNECTIONS=$WRK_CONNECTIONS WRK_THREADS=$WRK_THREADS"
fi

# ---------------------------------------------------------------- scale
# timed NAME CMD: runs CMD under /usr/bin/time -v (wall time, peak RSS).
# Key counts and Redis's own time are summed over the servers in
# TIMED_PORTS (the single server, or every master of the cluster).
TIMED_PORTS=("$REDIS_PORT")
dbsize_all() {
  local p n=0
  for p in "${TIMED_PORTS[@]}"; do n=$((n + $(redis-cli -h 127.0.0.1 -p "$p" dbsize))); done
  echo "$n"
}
timed() {
  local name=$1
  shift
  local before p
  before=$(dbsize_all)
  for p in "${TIMED_PORTS[@]}"; do redis-cli -h 127.0.0.1 -p "$p" config resetstat >/dev/null; done
  if ! /usr/bin/time -v -o "$TMP/time.txt" bash -c "set -o pipefail; $*" >"$TMP/stdout.txt" 2>"$TMP/stderr.txt"; then
    log "  $name failed:"
    tail -5 "$TMP/stderr.txt" >&2
    printf '%s wall=NaN rss_kb=NaN keys_before=%s keys_after=%s out=failed\n' "$name" "$before" \
      "$(dbsize_all)" >>"$OUT/scale.txt"
    return 0
  fi
  local wall rss outn
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {
    n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$TMP/time.txt")
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$TMP/time.txt")
  outn=$(tail -1 "$TMP/stdout.txt" | tr -d ' \t' | cut -c1-40)
  # Redis's own time in the commands it ran for this one (INFO commandstats).
  local server
  server=$(for p in "${TIMED_PORTS[@]}"; do redis-cli -h 127.0.0.1 -p "$p" info commandstats; done | tr -d '\r' | awk -F'[:,=]' \
    '/^cmdstat_/ && $1 != "cmdstat_info" && $1 != "cmdstat_config|resetstat" {u += $5} END {printf "%.2f", u / 1e6}')
  printf '%s wall=%s rss_kb=%s keys_before=%s keys_after=%s server_s=%s out=%s\n' "$name" "$wall" "$rss" "$before" \
    "$(dbsize_all)" "$server" "${outn:-none}" >>"$OUT/scale.txt"
  log "  $name: ${wall}s, $((rss / 1024)) MiB"
}
# fill [N [L]]: the scale data set; with N, every Nth session has no TTL;
# with L, every Lth session is logged in and listed in its user's index.
fill() {
  "${RCLI[@]}" flushall >/dev/null
  "$TMP/fill" -sessions "$SCALE_SESSIONS" -others "$SCALE_OTHERS" -prefix "$PREFIX" -nottl-every "${1:-0}" \
    -logged-in-every "${2:-0}" |
    "${RCLI[@]}" --pipe >/dev/null
}
# scale.txt holds both parts' rows (cluster-*): a part run alone replaces
# its own rows only.
touch "$OUT/scale.txt"
if has_part scale; then
  grep '^cluster-' "$OUT/scale.txt" >"$TMP/scale.keep" || true
  mv "$TMP/scale.keep" "$OUT/scale.txt"
fi
if has_part cluster; then
  grep -v '^cluster-' "$OUT/scale.txt" >"$TMP/scale.keep" || true
  mv "$TMP/scale.keep" "$OUT/scale.txt"
fi
if has_part scale; then
  part_start
  log "scale: filling $SCALE_SESSIONS sessions under $PREFIX and $SCALE_OTHERS other keys"
  fill
  # One untimed pass first: Redis finishes growing its dict (incremental
  # rehashing) and the first timed command does not pay for it.
  "$TMP/scanfloor" -addr "$REDIS_ADDR" -prefix "$PREFIX" >/dev/null
  W="$TMP/wsess --redis-url $REDIS_URL"
  R="redis-cli -h 127.0.0.1 -p $REDIS_PORT"
  # The commands that change nothing run SCALE_REPEAT times, interleaved;
  # the report takes the median.
  for _ in $(seq "$SCALE_REPEAT"); do
    timed scanfloor "$TMP/scanfloor -addr $REDIS_ADDR -prefix '$PREFIX'"
    timed redis-cli-scan "$R --scan --pattern '$PREFIX*' | wc -l"
    timed ls-keys-only "$W redis ls --prefix '$PREFIX' --keys-only -o tsv | wc -l"
    timed ls "$W redis ls --prefix '$PREFIX' -o tsv | wc -l"
    timed stats "$W redis stats --prefix '$PREFIX' >/dev/null && echo done"
    timed floor-describe "$TMP/scanfloor -addr $REDIS_ADDR -prefix '$PREFIX' -action describe"
  done
  # Each action beside its bare floor (bench/cmd/scanfloor -action): the
  # same SCAN COUNT 1000 loop with per batch one script call that sets the
  # TTL of the batch, one variadic UNLINK, or one script call that sets the
  # TTL of the batch's keys that have none.
  timed floor-in "$TMP/scanfloor -addr $REDIS_ADDR -prefix '$PREFIX' -action in -ttl 1h"
  timed expire-in "$W redis expire --prefix '$PREFIX' --in 1h --yes >/dev/null && echo done"
  timed expire-delete "$W redis expire --prefix '$PREFIX' --delete --yes >/dev/null && echo done"
  log "scale: refilling for the delete floor"
  fill
  timed floor-delete "$TMP/scanfloor -addr $REDIS_ADDR -prefix '$PREFIX' -action delete"
  log "scale: refilling with every second session without a TTL, for --no-ttl"
  fill 2
  timed floor-nottl "$TMP/scanfloor -addr $REDIS_ADDR -prefix '$PREFIX' -action nottl -ttl 24h"
  fill 2
  timed expire-nottl "$W redis expire --prefix '$PREFIX' --no-ttl --in 24h --yes >/dev/null && echo done"
  log "scale: refilling for the xargs reference"
  fill
  timed xargs-unlink "$R --scan --pattern '$PREFIX*' | xargs -n 1000 $R unlink >/dev/null && echo done"
  # doctor on the same sessions, every tenth one logged in (its own fill,
  # so that the rows above keep their data), beside a SCAN floor of it.
  log "scale: refilling with every tenth session logged in, for doctor"
  fill 0 10
  "$TMP/scanfloor" -addr "$REDIS_ADDR" -prefix "$PREFIX" >/dev/null
  for _ in $(seq "$SCALE_REPEAT"); do
    timed scanfloor-doctor "$TMP/scanfloor -addr $REDIS_ADDR -prefix '$PREFIX'"
    timed doctor "$W redis doctor --prefix '$PREFIX' -o tsv | wc -l"
  done
  "${RCLI[@]}" flushall >/dev/null
  part_end scale "SCALE_SESSIONS=$SCALE_SESSIONS SCALE_OTHERS=$SCALE_OTHERS SCALE_REPEAT=$SCALE_REPEAT"
fi

# ---------------------------------------------------------------- cluster
# Three masters on loopback, no replicas, CLUSTER_SESSIONS sessions. Rows are
# named cluster-*; -mN rows run on master N alone (the serial sum is theirs).
if has_part cluster; then
  part_start
  "${RCLI[@]}" flushall >/dev/null
  CPORTS=()
  for i in 1 2 3; do
    p=$(free_port)
    mkdir -p "$TMP/cluster$i"
    # The bus port is given: the default (port + 10000) may not exist.
    redis-server --port "$p" --bind 127.0.0.1 --save "" --appendonly no --cluster-enabled yes \
      --cluster-port "$(free_port)" --cluster-config-file "$TMP/cluster$i/nodes.conf" --dir "$TMP/cluster$i" --logfile "$TMP/cluster$i/redis.log" &
    CLUSTER_PIDS+=($!)
    CPORTS+=("$p")
  done
  for p in "${CPORTS[@]}"; do
    for _ in $(seq 100); do redis-cli -p "$p" ping >/dev/null 2>&1 && break; sleep 0.05; done
  done
  CADDRS=$(printf '127.0.0.1:%s,' "${CPORTS[@]}")
  CADDRS=${CADDRS%,}
  redis-cli --cluster create ${CADDRS//,/ } --cluster-replicas 0 --cluster-yes >"$TMP/cluster-create.log" 2>&1
  for _ in $(seq 200); do
    ok=0
    for p in "${CPORTS[@]}"; do
      redis-cli -p "$p" cluster info | grep -q 'cluster_state:ok' && ok=$((ok + 1))
    done
    [ "$ok" -eq 3 ] && break
    sleep 0.1
  done
  [ "$ok" -eq 3 ] || { log "cluster did not form"; cat "$TMP/cluster-create.log" >&2; exit 1; }
  log "cluster: filling $CLUSTER_SESSIONS sessions on 3 masters"
  "$TMP/fill" -sessions "$CLUSTER_SESSIONS" -others 0 -prefix "$PREFIX" -cluster "$CADDRS"
  TIMED_PORTS=("${CPORTS[@]}")
  "$TMP/scanfloor" -addrs "$CADDRS" -prefix "$PREFIX" >/dev/null
  WC="$TMP/wsess --cluster $CADDRS"
  for _ in $(seq "$SCALE_REPEAT"); do
    timed cluster-scanfloor "$TMP/scanfloor -addrs $CADDRS -prefix '$PREFIX'"
    timed cluster-ls-keys-only "$WC redis ls --prefix '$PREFIX' --keys-only -o tsv | wc -l"
    timed cluster-stats "$WC redis stats --prefix '$PREFIX' >/dev/null && echo done"
    timed cluster-floor-describe "$TMP/scanfloor -addrs $CADDRS -prefix '$PREFIX' -action describe"
    for i in 1 2 3; do
      p=${CPORTS[$((i - 1))]}
      timed "cluster-scanfloor-m$i" "$TMP/scanfloor -addr 127.0.0.1:$p -prefix '$PREFIX'"
      timed "cluster-ls-keys-only-m$i" "$TMP/wsess --redis-url redis://127.0.0.1:$p/0 redis ls --prefix '$PREFIX' --keys-only -o tsv | wc -l"
      timed "cluster-stats-m$i" "$TMP/wsess --redis-url redis://127.0.0.1:$p/0 redis stats --prefix '$PREFIX' >/dev/null && echo done"
    done
  done
  timed cluster-floor-in "$TMP/scanfloor -addrs $CADDRS -prefix '$PREFIX' -action in -ttl 1h"
  timed cluster-expire-in "$WC redis expire --prefix '$PREFIX' --in 1h --yes >/dev/null && echo done"
  for i in 1 2 3; do
    p=${CPORTS[$((i - 1))]}
    timed "cluster-expire-in-m$i" "$TMP/wsess --redis-url redis://127.0.0.1:$p/0 redis expire --prefix '$PREFIX' --in 1h --yes >/dev/null && echo done"
  done
  TIMED_PORTS=("$REDIS_PORT")
  for pid in "${CLUSTER_PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  CLUSTER_PIDS=()
  part_end cluster "CLUSTER_SESSIONS=$CLUSTER_SESSIONS SCALE_REPEAT=$SCALE_REPEAT"
fi

echo "elapsed=$((SECONDS - START))s" >>"$OUT/machine.txt"
missing=()
[ -s "$OUT/inproc.txt" ] || missing+=(inproc)
[ -s "$OUT/load.txt" ] || missing+=(load)
grep -qv '^cluster-' "$OUT/scale.txt" || missing+=(scale)
grep -q '^cluster-' "$OUT/scale.txt" || missing+=(cluster)
if [ -n "$REPORT" ] && [ "${#missing[@]}" -gt 0 ] && [ -z "${PARTIAL_OK:-}" ] &&
  [ "$(realpath -m "$REPORT")" = "$ROOT/BENCHMARKS.md" ]; then
  log "$OUT has no raw results of: ${missing[*]}; BENCHMARKS.md would lose their sections"
  REPORT=$OUT/BENCHMARKS.partial.md
  log "writing $REPORT instead (PARTIAL_OK=1 writes BENCHMARKS.md anyway)"
fi
status=0
"$TMP/report" -dir "$OUT" -o "${REPORT:-/dev/null}" -seed "$SEED" -fail-missed || status=$?
[ -n "$REPORT" ] && log "wrote $REPORT"
log "done in $((SECONDS - START)) s"
if [ "$status" -ne 0 ]; then
  log "an in-process target was missed, or the report failed (status $status)"
  exit 1
fi
