#!/usr/bin/env bash
# Sync benchmark (figures, not a test): a tree of N files (default 2,000: empty to a few MiB,
# unicode names, nested and empty folders) synced to an embedded fmsd and back, beside `rclone
# sync` of the same tree to the same fmsd through WebDAV, and local → local as a reference.
#
#   scripts/bench-sync.sh [N_FILES]
#
# Prints the time of the first sync, of the re-sync with nothing changed (the hash cache spares
# reading the files), of the sync back into an empty folder, and rclone's two figures.
# BENCH_PARALLEL (default 4) is fmsctl's --parallel and rclone's --transfers.
set -euo pipefail
cd "$(dirname "$0")/.."

n_files=${1:-2000}
parallel=${BENCH_PARALLEL:-4}

for tool in python3 rclone; do
  command -v "$tool" >/dev/null || {
    echo "bench: $tool is needed (scripts/services.sh start installs rclone)" >&2
    exit 1
  }
done

cargo build --release --locked -p fmsd -p fmsctl >&2
bin=${CARGO_TARGET_DIR:-target}/release
work=$(mktemp -d)
fmsd_pid=""
cleanup() {
  [ -n "$fmsd_pid" ] && kill -TERM "$fmsd_pid" 2>/dev/null && wait "$fmsd_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "bench: making a tree of $n_files files" >&2
python3 - "$work/tree" "$n_files" <<'PY'
import os, random, sys
root, n = sys.argv[1], int(sys.argv[2])
rng = random.Random(1)
for empty in ("empty-top", "nested/empty in nested", "nested/a/b/c/empty-deep"):
    os.makedirs(os.path.join(root, empty), exist_ok=True)
names = ["plain", "café ünïcødé", "日本語", "emoji 🎉", "with space"]
for i in range(n):
    folder = [root, f"{root}/d{i % 40:02}", f"{root}/nested/a/n{i % 13:02}",
              f"{root}/nested/a/b/c/deep-{i % 7}", f"{root}/ünï-{i % 9}"][i % 5]
    os.makedirs(folder, exist_ok=True)
    size = {7: 3 << 20, 11: (5 << 20) + 17, 13: (2 << 20) - 1}.get(i, 0 if i % 9 == 0 else (i * 7919) % 20000)
    with open(f"{folder}/{names[i % 5]}-{i:04}.dat", "wb") as out:
        out.write(rng.randbytes(size))
PY
bytes=$(du -sb "$work/tree" | cut -f1)

"$bin/fmsd" --listen 127.0.0.1:0 --data-dir "$work/data" > "$work/fmsd.out" 2> "$work/fmsd.log" &
fmsd_pid=$!
for _ in $(seq 100); do grep -q 'listening on' "$work/fmsd.out" 2>/dev/null && break; sleep 0.1; done
server=$(sed -n 's/^fmsd listening on //p' "$work/fmsd.out")
[ -n "$server" ] || { echo "bench: fmsd did not start" >&2; cat "$work/fmsd.log" >&2; exit 1; }

export FMSCTL_SERVER=$server XDG_CONFIG_HOME=$work/config XDG_STATE_HOME=$work/state \
  XDG_CACHE_HOME=$work/cache FMSCTL_CREDENTIAL_STORE=file FMSCTL_PARALLEL=$parallel
printf 'benchmark password\n' | "$bin/fmsctl" -q register --email bench@example.com --name Bench --password-stdin >/dev/null

now() { date +%s.%N; }
# timed LABEL COMMAND...: runs it, keeps its --json report in $work/LABEL.json, prints seconds
timed() {
  local label=$1 start
  shift
  start=$(now)
  "$@" > "$work/$label.json"
  python3 -c "print(f'{$(now) - $start:.2f}')"
}
field() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2], {}, d))' "$work/$1.json" "$2"; }

t_first=$(timed first "$bin/fmsctl" --json sync "$work/tree" fms:/tree)
t_again=$(timed again "$bin/fmsctl" --json sync "$work/tree" fms:/tree)
t_back=$(timed back "$bin/fmsctl" --json sync fms:/tree "$work/back")
t_back_again=$(timed back_again "$bin/fmsctl" --json sync fms:/tree "$work/back")
rclone check --checksum "$work/tree" "$work/back" 2> "$work/check.log" ||
  { echo "bench: the copy differs" >&2; cat "$work/check.log" >&2; exit 1; }

# rclone's WebDAV backend against the same fmsd, an app token as the password.
token=$("$bin/fmsctl" token create bench-rclone 2>/dev/null)
export RCLONE_CONFIG=/dev/null RCLONE_CONFIG_FMS_TYPE=webdav RCLONE_CONFIG_FMS_URL="$server/dav/" \
  RCLONE_CONFIG_FMS_VENDOR=other RCLONE_CONFIG_FMS_USER=bench \
  RCLONE_CONFIG_FMS_PASS="$(rclone obscure "$token")"
start=$(now)
rclone sync --transfers "$parallel" "$work/tree" fms:rclone-tree 2>/dev/null
t_dav=$(python3 -c "print(f'{$(now) - $start:.2f}')")
start=$(now)
rclone sync --transfers "$parallel" "$work/tree" fms:rclone-tree 2>/dev/null
t_dav_again=$(python3 -c "print(f'{$(now) - $start:.2f}')")

start=$(now)
rclone sync --transfers "$parallel" "$work/tree" "$work/rclone" 2>/dev/null
t_rclone=$(python3 -c "print(f'{$(now) - $start:.2f}')")
start=$(now)
rclone sync --transfers "$parallel" "$work/tree" "$work/rclone" 2>/dev/null
t_rclone_again=$(python3 -c "print(f'{$(now) - $start:.2f}')")

echo
echo "sync of $n_files files, $((bytes / 1024 / 1024)) MiB, --parallel $parallel, embedded fmsd on 127.0.0.1"
printf '%-46s %8s s  (%s files sent)\n' "fmsctl sync local → fms, first" "$t_first" "$(field first transferred_files)"
printf '%-46s %8s s  (%s sent, %s files read, %s hashes from the cache)\n' "fmsctl sync local → fms, nothing changed" \
  "$t_again" "$(field again transferred_files)" "$(field again "hashing['files_read']")" "$(field again "hashing['cache_hits']")"
printf '%-46s %8s s  (%s files received)\n' "fmsctl sync fms → empty local folder" "$t_back" "$(field back transferred_files)"
printf '%-46s %8s s  (%s received, %s files read)\n' "fmsctl sync fms → local, nothing changed" \
  "$t_back_again" "$(field back_again transferred_files)" "$(field back_again "hashing['files_read']")"
printf '%-46s %8s s\n' "rclone sync local → fms through WebDAV, first" "$t_dav"
printf '%-46s %8s s\n' "rclone sync local → fms through WebDAV, again" "$t_dav_again"
printf '%-46s %8s s\n' "reference: rclone sync local → local, first" "$t_rclone"
printf '%-46s %8s s\n' "reference: rclone sync local → local, again" "$t_rclone_again"
