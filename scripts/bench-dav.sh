#!/usr/bin/env bash
# WebDAV benchmark (figures, not a test), side by side in one run on the same disk:
# - a 1 GiB PUT and GET with curl through fmsd's /dav/ and through `rclone serve webdav` of a
#   plain folder, with fmsd's peak RSS during the transfers;
# - PROPFIND depth 1 of a folder of 10,000 files through /dav/: p50 and p99 of 20 runs.
#
#   scripts/bench-dav.sh [SIZE_MIB]     the file's size (default 1024)
set -euo pipefail
cd "$(dirname "$0")/.."

SIZE_MIB=${1:-1024}
N_FILES=10000
command -v rclone >/dev/null || { echo "rclone is missing (scripts/services.sh installs it)" >&2; exit 1; }
cargo build --release --locked -p fmsd -p fmsctl >&2
work=$(mktemp -d)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

target/release/fmsd --listen 127.0.0.1:0 --data-dir "$work/fmsd" >"$work/fmsd.out" 2>"$work/fmsd.log" &
fmsd_pid=$!; pids+=("$fmsd_pid")
for _ in $(seq 100); do grep -q listening "$work/fmsd.out" 2>/dev/null && break; sleep 0.1; done
url=$(sed -n 's/^fmsd listening on //p' "$work/fmsd.out")
export XDG_CONFIG_HOME="$work/config" XDG_STATE_HOME="$work/state"
echo 'a long bench password' | target/release/fmsctl --server "$url" register \
  --email bench@example.com --name Bench --password-stdin >/dev/null
token=$(target/release/fmsctl --server "$url" token create bench 2>/dev/null)

mkdir -p "$work/served"
rclone_port=$((20000 + RANDOM % 20000))
rclone serve webdav "$work/served" --addr "127.0.0.1:$rclone_port" --log-level ERROR &
pids+=("$!")
sleep 1

head -c $((SIZE_MIB * 1024 * 1024)) /dev/urandom >"$work/file.bin"
seconds() { curl -s -o /dev/null -w '%{time_total}' "$@"; }
mib_s() { awk -v mib="$SIZE_MIB" -v s="$1" 'BEGIN { printf "%.0f MiB/s (%.2f s)", mib / s, s }'; }

# The peak from here on: what the transfers take, not the account's password hash before.
echo 5 >"/proc/$fmsd_pid/clear_refs"
fmsd_put=$(seconds -u "bench:$token" -T "$work/file.bin" "$url/dav/file.bin")
fmsd_get=$(seconds -u "bench:$token" "$url/dav/file.bin")
rss_kib=$(awk '/VmHWM/ { print $2 }' "/proc/$fmsd_pid/status")
rclone_put=$(seconds -T "$work/file.bin" "http://127.0.0.1:$rclone_port/file.bin")
rclone_get=$(seconds "http://127.0.0.1:$rclone_port/file.bin")

printf '\n%-10s %-28s %-28s\n' "${SIZE_MIB} MiB" "fmsd /dav/" "rclone serve webdav"
printf '%-10s %-28s %-28s\n' PUT "$(mib_s "$fmsd_put")" "$(mib_s "$rclone_put")"
printf '%-10s %-28s %-28s\n' GET "$(mib_s "$fmsd_get")" "$(mib_s "$rclone_get")"
awk -v p="$fmsd_put" -v rp="$rclone_put" -v g="$fmsd_get" -v rg="$rclone_get" \
  'BEGIN { printf "%-10s %-28s %-28s\n", "ratio", sprintf("PUT %.2fx", rp / p), sprintf("GET %.2fx (fmsd over rclone)", rg / g) }'
echo "fmsd peak RSS during the transfers: $((rss_kib / 1024)) MiB"

mkdir -p "$work/many"
(cd "$work/many" && seq -f 'file %05g.txt' "$N_FILES" | xargs -d '\n' touch)
obscured=$(rclone obscure "$token")
rclone copy --config /dev/null --transfers 16 --webdav-url "$url/dav/" --webdav-vendor other \
  --webdav-user bench --webdav-pass "$obscured" "$work/many" :webdav:many
for _ in $(seq 20); do
  curl -s -o /dev/null -w '%{time_total}\n' -u "bench:$token" -X PROPFIND -H 'Depth: 1' "$url/dav/many/"
done | sort -n >"$work/propfind.txt"
p50=$(sed -n '10p' "$work/propfind.txt"); p99=$(tail -1 "$work/propfind.txt")
echo "PROPFIND depth 1 of $N_FILES files, 20 runs: p50 ${p50} s, p99 ${p99} s"
