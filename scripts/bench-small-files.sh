#!/usr/bin/env bash
# Small-files benchmark (figures, not a test): one folder of N small files, uploaded side by
# side with the tools a user would compare with, each run once per round, rounds alternated;
# prints the median files/s of each and the ratios.
#
#   scripts/bench-small-files.sh [N_FILES] [FILE_KIB]        embedded fmsd: `fmsctl upload -r`
#                                                            beside `cp -r` (and sync) on the
#                                                            same disk
#   scripts/bench-small-files.sh --s3 [N_FILES] [FILE_KIB]   fmsd on S3 (garage): `fmsctl
#                                                            upload -r` beside `rclone copy`
#                                                            and `aws s3 cp --recursive` of the
#                                                            same folder to the same bucket
# Then, in both modes, the first round's folder comes back with `fmsctl download -r` beside one
# curl process fetching the same files' signed URLs over one kept-alive connection.
# N_FILES defaults to 1000, FILE_KIB to 4; BENCH_ROUNDS (default 3) rounds. BENCH_BIN names a
# folder holding fmsd and fmsctl to measure instead of building target/release (an older
# build, for a before/after figure). The S3 servers come from target/services/services.env
# (or FMS_SERVICES_ENV), started by scripts/services.sh if missing.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=embedded
if [ "${1:-}" = "--s3" ]; then
  mode=s3
  shift
fi
n_files=${1:-1000}
file_kib=${2:-4}
rounds=${BENCH_ROUNDS:-3}

command -v python3 >/dev/null || { echo "bench: python3 is needed" >&2; exit 1; }
if [ "$mode" = s3 ]; then
  env_file=${FMS_SERVICES_ENV:-target/services/services.env}
  if [ ! -f "$env_file" ]; then
    bash scripts/services.sh start >&2
    env_file=target/services/services.env
  fi
  command -v rclone >/dev/null || { echo "bench: rclone is needed (scripts/services.sh installs it)" >&2; exit 1; }
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

echo "bench: writing $n_files files of $file_kib KiB" >&2
python3 - "$work/small" "$n_files" "$file_kib" <<'PY'
import os, sys
folder, n, kib = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
os.makedirs(folder)
for i in range(n):
    with open(os.path.join(folder, f"file-{i:05d}.bin"), "wb") as out:
        out.write(os.urandom(kib * 1024))
PY

"$bin/fmsd" --listen 127.0.0.1:0 --data-dir "$work/data" > "$work/fmsd.out" 2> "$work/fmsd.log" &
fmsd_pid=$!
for _ in $(seq 100); do grep -q 'listening on' "$work/fmsd.out" 2>/dev/null && break; sleep 0.1; done
server=$(sed -n 's/^fmsd listening on //p' "$work/fmsd.out")
[ -n "$server" ] || { echo "bench: fmsd did not start" >&2; cat "$work/fmsd.log" >&2; exit 1; }

export FMSCTL_SERVER=$server XDG_CONFIG_HOME=$work/config XDG_CACHE_HOME=$work/cache \
  XDG_STATE_HOME=$work/state FMSCTL_CREDENTIAL_STORE=file
password='benchmark password'
printf '%s\n' "$password" | "$bin/fmsctl" -q register --email bench@example.com --name Bench --password-stdin >/dev/null
printf '%s\n' "$password" | "$bin/fmsctl" -q login --email bench@example.com --password-stdin >/dev/null

now() { date +%s.%N; }
# Runs "$@" and prints its seconds.
timed() { local start; start=$(now); "$@" >/dev/null; python3 -c "print($(now) - $start)"; }

if [ "$mode" = s3 ]; then
  export AWS_ACCESS_KEY_ID=$FMS_TEST_S3_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$FMS_TEST_S3_SECRET_KEY \
    AWS_DEFAULT_REGION=$FMS_TEST_S3_REGION AWS_CONFIG_FILE=$FMS_TEST_AWS_CONFIG_FILE
  export RCLONE_CONFIG_BENCH_TYPE=s3 RCLONE_CONFIG_BENCH_PROVIDER=Other \
    RCLONE_CONFIG_BENCH_ENDPOINT=$FMS_TEST_S3_ENDPOINT RCLONE_CONFIG_BENCH_REGION=$FMS_TEST_S3_REGION \
    RCLONE_CONFIG_BENCH_ACCESS_KEY_ID=$FMS_TEST_S3_ACCESS_KEY \
    RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY=$FMS_TEST_S3_SECRET_KEY RCLONE_CONFIG_BENCH_FORCE_PATH_STYLE=true
  tools="bench:$FMS_TEST_S3_BUCKET/bench-$$-tools"
fi

# Each round: every tool once, into a fresh destination (nothing to skip), in turn.
for round in $(seq "$rounds"); do
  echo "bench: round $round of $rounds" >&2
  "$bin/fmsctl" -q mkdir "/round-$round" >/dev/null
  timed "$bin/fmsctl" -q upload -r "$work/small" "/round-$round" >> "$work/fmsctl.times" \
    < /dev/null
  if [ "$mode" = embedded ]; then
    sync
    timed sh -c "cp -r '$work/small' '$work/copy-$round' && sync" >> "$work/cp.times"
  else
    # rclone 1.60 fails on AWS_CA_BUNDLE (set on some machines), so it runs without it.
    timed env -u AWS_CA_BUNDLE rclone copy "$work/small" "$tools/rclone-$round" >> "$work/rclone.times"
    timed "$FMS_TEST_AWS" --endpoint-url "$FMS_TEST_S3_ENDPOINT" --only-show-errors \
      s3 cp --recursive "$work/small" "s3://$FMS_TEST_S3_BUCKET/bench-$$-tools/aws-$round" \
      >> "$work/aws.times"
  fi
done
n_uploaded=$("$bin/fmsctl" ls /round-1/small | grep -c 'file-' || true)
[ "$n_uploaded" = "$n_files" ] || { echo "bench: fmsctl uploaded $n_uploaded of $n_files files" >&2; exit 1; }
# Downloads: fmsctl -r against one curl with keep-alive on the same signed URLs (fetched
# beforehand, not timed), each once per round, alternated.
token=$(curl -sS -f -H 'content-type: application/json' "$server/v1/auth/login" \
  -d "{\"email\":\"bench@example.com\",\"password\":\"$password\"}" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
for round in $(seq "$rounds"); do
  echo "bench: download round $round of $rounds" >&2
  timed "$bin/fmsctl" -q download -r /round-1/small "$work/down-$round" >> "$work/fmsctl-down.times" \
    < /dev/null
  python3 - "$server" "$token" "$work/small" "$work/curl-$round" > "$work/curl-$round.config" <<'PY'
import json, os, sys, urllib.parse, urllib.request
server, token, folder, out = sys.argv[1:5]
os.makedirs(out)
for name in sorted(os.listdir(folder)):
    query = urllib.parse.urlencode({"path": f"/round-1/small/{name}"})
    request = urllib.request.Request(f"{server}/v1/downloads?{query}",
                                     headers={"authorization": f"Bearer {token}"})
    url = json.load(urllib.request.urlopen(request))["url"]
    print(f'url = "{url}"\noutput = "{out}/{name}"')
PY
  timed curl -sS -f --config "$work/curl-$round.config" >> "$work/curl-down.times"
done
diff -r "$work/small" "$work/down-1" >/dev/null ||
  { echo "bench: fmsctl download -r did not bring the same files back" >&2; exit 1; }
diff -r "$work/small" "$work/curl-1" >/dev/null || { echo "bench: curl did not bring the same files back" >&2; exit 1; }

if [ "$mode" = s3 ]; then
  env -u AWS_CA_BUNDLE rclone purge "bench:$FMS_TEST_S3_BUCKET/bench-$$-tools" >/dev/null 2>&1 || true
  for round in $(seq "$rounds"); do "$bin/fmsctl" -q rm -r --permanent "/round-$round" >/dev/null || true; done
fi

kill -TERM "$fmsd_pid" 2>/dev/null || true
wait "$fmsd_pid" 2>/dev/null || true
fmsd_pid=""

# Median files/s of a times file.
rate() { python3 -c "import statistics,sys; t=[float(l) for l in open(sys.argv[1])]; print(f'{int(sys.argv[2]) / statistics.median(t):.1f}')" "$1" "$n_files"; }
ratio() { python3 -c "print(f'{float(\"$1\") / float(\"$2\"):.2f}x')"; }
fms=$(rate "$work/fmsctl.times")
if [ "$mode" = embedded ]; then
  cp_rate=$(rate "$work/cp.times")
  printf '\n%-34s %12s\n' "$n_files x $file_kib KiB, embedded" "files/s"
  printf '%-34s %12s\n' "fmsctl upload -r" "$fms"
  printf '%-34s %12s\n' "cp -r && sync" "$cp_rate"
  echo "target: fmsctl >= 500 files/s"
else
  rclone_rate=$(rate "$work/rclone.times")
  aws_rate=$(rate "$work/aws.times")
  printf '\n%-34s %12s %10s %10s\n' "$n_files x $file_kib KiB, S3 (garage)" "files/s" "vs rclone" "vs aws"
  printf '%-34s %12s %10s %10s\n' "fmsctl upload -r" "$fms" "$(ratio "$fms" "$rclone_rate")" "$(ratio "$fms" "$aws_rate")"
  printf '%-34s %12s\n' "rclone copy" "$rclone_rate"
  printf '%-34s %12s\n' "aws s3 cp --recursive" "$aws_rate"
  echo "targets: fmsctl >= 1.0x rclone copy, >= 1.5x aws s3 cp --recursive"
fi
fms_down=$(rate "$work/fmsctl-down.times")
curl_down=$(rate "$work/curl-down.times")
printf '\n%-34s %12s %10s\n' "$n_files x $file_kib KiB back" "files/s" "vs curl"
printf '%-34s %12s %10s\n' "fmsctl download -r" "$fms_down" "$(ratio "$fms_down" "$curl_down")"
printf '%-34s %12s\n' "curl, signed URLs, keep-alive" "$curl_down"
echo "target: fmsctl download -r >= 0.5x curl"
echo "($rounds rounds, medians)"
