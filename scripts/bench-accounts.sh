#!/usr/bin/env bash
# Small files, big accounts, logins and memory (figures, not a test), on the embedded default,
# side by side in one run:
# - 1,000 files of 4 KiB through `fmsctl upload -r` into an empty account, then again once the
#   account holds 10,000 more files (the ratio shows whether an upload's cost grows with the
#   account), beside `cp -r` of the same folder on the same disk;
# - `fmsctl ls` of a folder of 10,000 entries, whole process: p50 and p99 of 20 runs;
# - `GET /v1/files` beside `/healthz` under the same wrk load;
# - 1,000 logins from 8 clients: logins/s, p50 and p99, and fmsd's RSS after them and idle;
# - token refresh from 8 clients: p50 and p99.
#
#   scripts/bench-accounts.sh
set -euo pipefail
cd "$(dirname "$0")/.."

N_SMALL=${BENCH_SMALL_FILES:-1000}
N_BIG=${BENCH_ACCOUNT_FILES:-10000}
if ! command -v wrk >/dev/null; then
  echo "bench: installing wrk" >&2
  apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
fi
cargo build --release --locked -p fmsd -p fmsctl >&2
bin=target/release
work=$(mktemp -d)
fmsd_pid=""
cleanup() {
  [ -n "$fmsd_pid" ] && kill -TERM "$fmsd_pid" 2>/dev/null && wait "$fmsd_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# Many logins from one address and account are what is measured, not refused.
FMSD_AUTH__LOGIN_ATTEMPTS_PER_MINUTE_PER_IP=1000000 \
  FMSD_AUTH__LOGIN_ATTEMPTS_PER_MINUTE_PER_ACCOUNT=1000000 \
  "$bin/fmsd" --listen 127.0.0.1:0 --data-dir "$work/data" >"$work/fmsd.out" 2>"$work/fmsd.log" &
fmsd_pid=$!
for _ in $(seq 100); do grep -q 'listening on' "$work/fmsd.out" 2>/dev/null && break; sleep 0.1; done
server=$(sed -n 's/^fmsd listening on //p' "$work/fmsd.out")
[ -n "$server" ] || { echo "bench: fmsd did not start" >&2; cat "$work/fmsd.log" >&2; exit 1; }
rss_mib() { awk '/VmRSS/ { printf "%.0f", $2 / 1024 }' "/proc/$fmsd_pid/status"; }
idle_rss=$(rss_mib)

export FMSCTL_SERVER=$server XDG_CONFIG_HOME=$work/config XDG_STATE_HOME=$work/state \
  XDG_CACHE_HOME=$work/cache FMSCTL_CREDENTIAL_STORE=file
password='benchmark password'
printf '%s\n' "$password" | "$bin/fmsctl" -q register --email bench@example.com --name Bench --password-stdin >/dev/null
# An access token (a JWT, checked without a lookup), as fmsctl sends after login.
token=$(curl -sS -f -H 'content-type: application/json' "$server/v1/auth/login" \
  -d "{\"email\":\"bench@example.com\",\"password\":\"$password\"}" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')

now() { date +%s.%N; }
elapsed() { python3 -c "print($(now) - $1)"; }
rate() { python3 -c "print(f'{$1 / $2:.0f}')"; }
make_files() { # DIR N: N files of 4 KiB
  mkdir -p "$1"
  python3 - "$1" "$2" <<'PY'
import os, sys
folder, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    with open(os.path.join(folder, f"file-{i:05d}.bin"), "wb") as out:
        out.write(os.urandom(4096))
PY
}
make_files "$work/small" "$N_SMALL"
make_files "$work/big" "$N_BIG"

# 1. Small files into the empty account, beside cp -r.
sync
start=$(now)
cp -r "$work/small" "$work/small-copy"
sync
t_cp=$(elapsed "$start")
start=$(now)
"$bin/fmsctl" -q upload -r "$work/small" /empty-account >/dev/null
t_empty=$(elapsed "$start")

# 2. The account grows by N_BIG files, then the same small folder again.
start=$(now)
"$bin/fmsctl" -q upload -r "$work/big" /big >/dev/null
t_fill=$(elapsed "$start")
start=$(now)
"$bin/fmsctl" -q upload -r "$work/small" /full-account >/dev/null
t_full=$(elapsed "$start")

# 3. fmsctl ls of the big folder, whole process.
for _ in $(seq 20); do
  start=$(now)
  "$bin/fmsctl" ls /big >/dev/null
  elapsed "$start"
done | sort -n >"$work/ls.txt"
ls_p50=$(sed -n '10p' "$work/ls.txt"); ls_p99=$(tail -1 "$work/ls.txt")

# 4. wrk: a listing page against the server's ceiling.
wrk_rps() { wrk -t2 -c16 -d8s "$@" | awk '/Requests\/sec/ { printf "%.0f", $2 }'; }
rps_list=$(wrk_rps -H "authorization: Bearer $token" "$server/v1/files?path=/empty-account")
rps_health=$(wrk_rps "$server/healthz")

# 5. Logins and refreshes from 8 clients, each timed.
python3 - "$server" "$password" "$work" <<'PY'
import json, sys, threading, time, urllib.request
server, password, work = sys.argv[1], sys.argv[2], sys.argv[3]
CLIENTS, LOGINS, REFRESHES = 8, 125, 125

def post(path, body):
    request = urllib.request.Request(server + path, json.dumps(body).encode(),
                                     {"content-type": "application/json"})
    with urllib.request.urlopen(request) as answer:
        return json.load(answer)

def percentiles(name, times, total):
    times.sort()
    p50, p99 = times[len(times) // 2], times[int(len(times) * 0.99) - 1]
    with open(f"{work}/{name}.txt", "w") as out:
        out.write(f"{len(times) / total:.1f} {p50 * 1000:.0f} {p99 * 1000:.0f}\n")

def run(name, work_of):
    times, lock = [], threading.Lock()
    def client(i):
        for elapsed in work_of(i):
            with lock:
                times.append(elapsed)
    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    start = time.monotonic()
    for thread in threads: thread.start()
    for thread in threads: thread.join()
    percentiles(name, times, time.monotonic() - start)

refresh_tokens = {}
def logins(i):
    for _ in range(LOGINS):
        start = time.monotonic()
        pair = post("/v1/auth/login", {"email": "bench@example.com", "password": password})
        yield time.monotonic() - start
    refresh_tokens[i] = pair["refresh_token"]

def refreshes(i):
    token = refresh_tokens[i]
    for _ in range(REFRESHES):
        start = time.monotonic()
        token = post("/v1/auth/refresh", {"refresh_token": token})["refresh_token"]
        yield time.monotonic() - start

run("logins", logins)
run("refresh", refreshes)
PY
rss_after_logins=$(rss_mib)
sleep 10
rss_idle_after=$(rss_mib)
read -r login_rate login_p50 login_p99 <"$work/logins.txt"
read -r _ refresh_p50 refresh_p99 <"$work/refresh.txt"

printf '\n%-46s %12s\n' "$N_SMALL files of 4 KiB" "files/s"
printf '%-46s %12s\n' "cp -r (same disk)" "$(rate "$N_SMALL" "$t_cp")"
printf '%-46s %12s\n' "fmsctl upload -r, empty account" "$(rate "$N_SMALL" "$t_empty")"
printf '%-46s %12s\n' "fmsctl upload -r, $N_BIG files in the account" "$(rate "$N_SMALL" "$t_full")"
printf '%-46s %12s\n' "(filling: $N_BIG files)" "$(rate "$N_BIG" "$t_fill")"
python3 -c "print(f'{\"full account over empty\":<46} {$t_empty / $t_full:>11.2f}x')"
printf '\nfmsctl ls of %s entries, 20 runs: p50 %.0f ms, p99 %.0f ms\n' "$N_BIG" \
  "$(python3 -c "print($ls_p50 * 1000)")" "$(python3 -c "print($ls_p99 * 1000)")"
printf 'wrk, 16 connections: GET /v1/files %s req/s, /healthz %s req/s (%s)\n' "$rps_list" "$rps_health" \
  "$(python3 -c "print(f'{$rps_list / $rps_health:.2f}x')")"
printf '1,000 logins from 8 clients: %s logins/s, p50 %s ms, p99 %s ms\n' "$login_rate" "$login_p50" "$login_p99"
printf 'token refresh from 8 clients: p50 %s ms, p99 %s ms\n' "$refresh_p50" "$refresh_p99"
printf 'fmsd RSS: idle at start %s MiB, after the logins %s MiB, 10 s later %s MiB\n' \
  "$idle_rss" "$rss_after_logins" "$rss_idle_after"
echo "targets: >= 500 files/s; full account within 10 %; ls p99 <= 100 ms; GET /v1/files >= 0.4x /healthz;"
echo "         RSS <= 128 MiB after the logins and near idle when idle; login p99 <= 4x p50; refresh p99 <= 5x p50"
