#!/usr/bin/env bash
# Transfer benchmark (figures, not a test). Prints MB/s, the ratios and peak RSS.
#
#   scripts/bench-transfer.sh [SIZE_MIB]        embedded fmsd: fmsctl side by side with curl on
#                                               the same part and download URLs, and a plain cp
#   scripts/bench-transfer.sh --s3 [SIZE_MIB]   fmsd on S3 (garage from scripts/services.sh):
#                                               fmsctl (presigned parts, straight to S3) side by
#                                               side with `rclone copy` and `aws s3 cp`
# SIZE_MIB defaults to 1024 (1 GiB). BENCH_BIN names a folder holding fmsd and fmsctl to measure
# instead of building target/release; the S3 servers come from target/services/services.env (or
# FMS_SERVICES_ENV), started by scripts/services.sh if missing.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=embedded
if [ "${1:-}" = "--s3" ]; then
  mode=s3
  shift
fi
size_mib=${1:-1024}
parallel=${BENCH_PARALLEL:-4}

for tool in curl python3; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is needed" >&2; exit 1; }
done
if [ ! -x /usr/bin/time ]; then
  echo "bench: installing GNU time for peak RSS figures"
  apt-get install -y time >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y time >/dev/null; }
fi

if [ "$mode" = s3 ]; then
  command -v rclone >/dev/null || { echo "bench: installing rclone" >&2; apt-get install -y rclone >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y rclone >/dev/null; }; }
  env_file=${FMS_SERVICES_ENV:-target/services/services.env}
  if [ ! -f "$env_file" ]; then
    bash scripts/services.sh start >&2
    env_file=target/services/services.env
  fi
  # shellcheck disable=SC1090
  source "$env_file"
  export FMSD_STORES__BLOBS="s3://$FMS_TEST_S3_BUCKET" FMSD_S3__ENDPOINT="$FMS_TEST_S3_ENDPOINT" \
    FMSD_S3__REGION="$FMS_TEST_S3_REGION" FMSD_S3__ACCESS_KEY="$FMS_TEST_S3_ACCESS_KEY" \
    FMSD_S3__SECRET_KEY="$FMS_TEST_S3_SECRET_KEY" FMSD_S3__KEY_PREFIX="bench-$$/"
fi

if [ -n "${BENCH_BIN:-}" ]; then
  bin=$BENCH_BIN
else
  cargo build --release --locked -p fmsd -p fmsctl >&2
  bin=target/release
fi
work=$(mktemp -d)
fmsd_pid=""
cleanup() {
  [ -n "$fmsd_pid" ] && kill -TERM "$fmsd_pid" 2>/dev/null && wait "$fmsd_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "bench: writing a ${size_mib} MiB random file" >&2
head -c "$((size_mib * 1024 * 1024))" /dev/urandom > "$work/big.bin"
bytes=$(stat -c %s "$work/big.bin")

# fmsd under GNU time, so its peak RSS is reported when it stops.
/usr/bin/time -v -o "$work/fmsd.time" "$bin/fmsd" --listen 127.0.0.1:0 --data-dir "$work/data" \
  > "$work/fmsd.out" 2> "$work/fmsd.log" &
fmsd_pid=$!
for _ in $(seq 100); do grep -q 'listening on' "$work/fmsd.out" 2>/dev/null && break; sleep 0.1; done
server=$(sed -n 's/^fmsd listening on //p' "$work/fmsd.out")
[ -n "$server" ] || { echo "bench: fmsd did not start" >&2; cat "$work/fmsd.log" >&2; exit 1; }
# The time wrapper's child is fmsd; signal it directly so it shuts down and time reports.
fmsd_child=$(pgrep -P "$fmsd_pid" fmsd || echo "$fmsd_pid")

export FMSCTL_SERVER=$server XDG_CONFIG_HOME=$work/config FMSCTL_CREDENTIAL_STORE=file
printf 'benchmark password\n' | "$bin/fmsctl" -q register --email bench@example.com --name Bench --password-stdin >/dev/null
printf 'benchmark password\n' | "$bin/fmsctl" -q login --email bench@example.com --password-stdin >/dev/null
token=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(next(iter(d.values()))["access_token"])' \
  "$work/config/fmsctl/credentials.json")

now() { date +%s.%N; }
mbps() { python3 -c "import sys; print(f'{int(sys.argv[1]) / 1e6 / float(sys.argv[2]):.0f}')" "$bytes" "$1"; }
api() { curl -sS -f -H "authorization: Bearer $token" -H 'content-type: application/json' "$@"; }

# 1. fmsctl upload and download (hashing included, as a user runs it).
start=$(now)
/usr/bin/time -v -o "$work/up.time" "$bin/fmsctl" -q upload "$work/big.bin" /
t_up=$(python3 -c "print($(now) - $start)")
start=$(now)
/usr/bin/time -v -o "$work/down.time" "$bin/fmsctl" -q download /big.bin "$work/fmsctl-down.bin"
t_down=$(python3 -c "print($(now) - $start)")
cmp "$work/big.bin" "$work/fmsctl-down.bin"

if [ "$mode" = embedded ]; then
# 2. curl on the same protocol: split into the server's parts (not timed), PUT them with
  #    $parallel curls at once, complete; then curl -o the download URL.
  sha=$(sha256sum "$work/big.bin" | cut -d' ' -f1)
  session=$(api -X POST "$server/v1/uploads" -d "{\"path\":\"/curl.bin\",\"size\":$bytes,\"sha256\":\"$sha\"}")
  python3 - "$session" "$work" <<'PY'
import json, sys
session, work = json.loads(sys.argv[1]), sys.argv[2]
with open(f"{work}/big.bin", "rb") as source, open(f"{work}/parts.txt", "w") as plan:
    for part in session["parts"]:
        source.seek(part["offset"])
        name = f"{work}/part.{part['number']}"
        with open(name, "wb") as out:
            out.write(source.read(part["size"]))
        plan.write(f"{name} {part['url']}\n")
PY
  upload_id=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["upload_id"])' "$session")
  start=$(now)
  xargs -P "$parallel" -L 1 sh -c 'curl -sS -f -o /dev/null -T "$0" "$1"' < "$work/parts.txt"
  api -X POST "$server/v1/uploads/$upload_id/complete" -d '{}' >/dev/null
  t_curl_up=$(python3 -c "print($(now) - $start)")
  rm -f "$work"/part.*
  link=$(api "$server/v1/downloads?path=/curl.bin" | python3 -c 'import json,sys; print(json.load(sys.stdin)["url"])')
  start=$(now)
  curl -sS -f -o "$work/curl-down.bin" "$link"
  t_curl_down=$(python3 -c "print($(now) - $start)")
  
  # 3. A plain copy of the same bytes on the same disk.
  sync
  start=$(now)
  cp "$work/big.bin" "$work/copy.bin"
  sync
  t_cp=$(python3 -c "print($(now) - $start)")
else
# 2. The same bytes with rclone and aws-cli, to the same S3 server and bucket.
  s3_prefix="s3://$FMS_TEST_S3_BUCKET/bench-$$-tools"
  export AWS_ACCESS_KEY_ID=$FMS_TEST_S3_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$FMS_TEST_S3_SECRET_KEY \
    AWS_DEFAULT_REGION=$FMS_TEST_S3_REGION AWS_CONFIG_FILE=$FMS_TEST_AWS_CONFIG_FILE
  export RCLONE_CONFIG_BENCH_TYPE=s3 RCLONE_CONFIG_BENCH_PROVIDER=Other \
    RCLONE_CONFIG_BENCH_ENDPOINT=$FMS_TEST_S3_ENDPOINT RCLONE_CONFIG_BENCH_REGION=$FMS_TEST_S3_REGION \
    RCLONE_CONFIG_BENCH_ACCESS_KEY_ID=$FMS_TEST_S3_ACCESS_KEY \
    RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY=$FMS_TEST_S3_SECRET_KEY RCLONE_CONFIG_BENCH_FORCE_PATH_STYLE=true
  # rclone 1.60 fails on AWS_CA_BUNDLE (set on some machines), so it runs without it.
  rclone_dst="bench:$FMS_TEST_S3_BUCKET/bench-$$-tools/rclone.bin"
  start=$(now)
  env -u AWS_CA_BUNDLE rclone copyto "$work/big.bin" "$rclone_dst"
  t_rclone_up=$(python3 -c "print($(now) - $start)")
  start=$(now)
  env -u AWS_CA_BUNDLE rclone copyto "$rclone_dst" "$work/rclone-down.bin"
  t_rclone_down=$(python3 -c "print($(now) - $start)")
  start=$(now)
  "$FMS_TEST_AWS" --endpoint-url "$FMS_TEST_S3_ENDPOINT" --only-show-errors s3 cp "$work/big.bin" "$s3_prefix/aws.bin"
  t_aws_up=$(python3 -c "print($(now) - $start)")
  start=$(now)
  "$FMS_TEST_AWS" --endpoint-url "$FMS_TEST_S3_ENDPOINT" --only-show-errors s3 cp "$s3_prefix/aws.bin" "$work/aws-down.bin"
  t_aws_down=$(python3 -c "print($(now) - $start)")
  env -u AWS_CA_BUNDLE rclone purge "bench:$FMS_TEST_S3_BUCKET/bench-$$-tools" >/dev/null 2>&1 || true
  "$bin/fmsctl" -q rm --permanent /big.bin >/dev/null || true
fi

kill -TERM "$fmsd_child" 2>/dev/null || true
wait "$fmsd_pid" 2>/dev/null || true
fmsd_pid=""
rss() { awk -F': ' '/Maximum resident set size/ {printf "%.1f", $2 / 1024}' "$1"; }

ratio() { python3 -c "print(f'{$1 / $2:.2f}x')"; }
if [ "$mode" = embedded ]; then
  printf '\n%-28s %10s %10s\n' "${size_mib} MiB, embedded" "MB/s" "vs curl"
  printf '%-28s %10s %10s\n' "fmsctl upload" "$(mbps "$t_up")" "$(ratio "$t_curl_up" "$t_up")"
  printf '%-28s %10s %10s\n' "curl -T (parallel $parallel)" "$(mbps "$t_curl_up")" "1.00x"
  printf '%-28s %10s %10s\n' "fmsctl download" "$(mbps "$t_down")" "$(ratio "$t_curl_down" "$t_down")"
  printf '%-28s %10s %10s\n' "curl -o" "$(mbps "$t_curl_down")" "1.00x"
  printf '%-28s %10s\n' "cp" "$(mbps "$t_cp")"
  targets="fmsctl >= 0.9x curl; fmsd and fmsctl peak RSS < 64 MiB"
else
  best_up=$(python3 -c "print(min($t_rclone_up, $t_aws_up))")
  best_down=$(python3 -c "print(min($t_rclone_down, $t_aws_down))")
  printf '\n%-28s %10s %10s\n' "${size_mib} MiB, S3 (garage)" "MB/s" "vs best"
  printf '%-28s %10s %10s\n' "fmsctl upload" "$(mbps "$t_up")" "$(ratio "$best_up" "$t_up")"
  printf '%-28s %10s\n' "rclone copy (upload)" "$(mbps "$t_rclone_up")"
  printf '%-28s %10s\n' "aws s3 cp (upload)" "$(mbps "$t_aws_up")"
  printf '%-28s %10s %10s\n' "fmsctl download" "$(mbps "$t_down")" "$(ratio "$best_down" "$t_down")"
  printf '%-28s %10s\n' "rclone copy (download)" "$(mbps "$t_rclone_down")"
  printf '%-28s %10s\n' "aws s3 cp (download)" "$(mbps "$t_aws_down")"
  targets="fmsctl >= 1.0x the best of rclone and aws; fmsd RSS flat while bytes flow"
fi
printf '\n%-28s %10s\n' "peak RSS" "MiB"
printf '%-28s %10s\n' "fmsd (whole run)" "$(rss "$work/fmsd.time")"
printf '%-28s %10s\n' "fmsctl upload" "$(rss "$work/up.time")"
printf '%-28s %10s\n' "fmsctl download" "$(rss "$work/down.time")"
echo "targets: $targets"
