#!/usr/bin/env bash
# scripts/services.sh — the "real stack" fms's integration tests talk to, on 127.0.0.1 only.
#
#   scripts/services.sh start    install what is missing (pinned versions, idempotent), start every
#                                server that is not already answering, wait for each, then write
#                                target/services/services.env (export lines the tests read)
#   scripts/services.sh stop     stop the servers this script started (by recorded PID); PostgreSQL
#                                only if this script started it
#   scripts/services.sh status   one line per server: up/down
#   scripts/services.sh env      print target/services/services.env (also the server binaries,
#                                for tests that run a server of their own to pause or restart)
#   scripts/services.sh check    smoke-check every server with its real client (from the venv)
#
# Servers (see /work/shared/SERVICES.md for why these):
#   PostgreSQL 15 (Debian)  5432     Kafka: tansu 0.6.0  9092     MongoDB: nx-27017 0.8.1  27017
#   S3: garage 2.5.0  3900 (rpc 3901)    S3 #2: s3s-fs 0.14.1  9000    SMTP: maildev 2.2.1  1025/1080
#
# State (data, configs, pid files, logs, services.env) lives in target/services/. Cargo binaries
# go to ~/.cargo/bin; the Python venv and the npm folder are cached in
# ${FMS_TOOLS_DIR:-~/.cache/fms-tools} so other clones on this machine reuse them.
# A first run on a fresh machine takes ~25 min (tansu and garage are compiled); later runs take seconds.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE="$REPO/target/services"
ENV_FILE="$STATE/services.env"
TOOLS="${FMS_TOOLS_DIR:-$HOME/.cache/fms-tools}"
CARGO_BIN="${CARGO_HOME:-$HOME/.cargo}/bin"
export PATH="$CARGO_BIN:$PATH"

# --- pinned versions ---------------------------------------------------------------------------
TANSU_VERSION=0.6.0
GARAGE_VERSION=2.5.0
S3SFS_VERSION=0.14.1
MAILDEV_VERSION=2.2.1
PY_PINS=(nx-27017==0.8.1 neosqlite==1.17.2 pymongo==4.20.1 confluent-kafka==2.16.1 awscli==1.46.3 schemathesis==4.32.5)

VENV="$TOOLS/venv"
PY="$VENV/bin/python"
MAILDEV_DIR="$TOOLS/maildev-$MAILDEV_VERSION"

# --- addresses and test credentials (loopback-only test servers) ------------------------------
HOST=127.0.0.1
PG_PORT=5432
KAFKA_PORT=9092
MONGO_PORT=27017
GARAGE_PORT=3900
GARAGE_RPC_PORT=3901
S3FS_PORT=9000
SMTP_PORT=1025
MAILDEV_PORT=1080

S3_REGION=us-east-1
S3_BUCKET=fms
# garage keys in the shape garage itself generates (GK + 24 hex digits; secret: 64 hex digits).
# garage 2.5.0 would import any id of >= 8 chars [A-Za-z0-9._-] and any secret of >= 16 printable
# ASCII chars (shorter ones make `server --default-bucket` exit: "Invalid default access key")
GARAGE_ACCESS_KEY=GK02414b3e2a737b8c61cfdc8d
GARAGE_SECRET_KEY=64c4d52631fa7a623802013588a41135807e49786900125a52d8fc5466deb0c2
S3FS_ACCESS_KEY=fms-s3fs-access
S3FS_SECRET_KEY=fms-s3fs-secret-key

WAIT_SECS="${FMS_SERVICES_WAIT_SECS:-60}"
SERVERS=(postgres tansu mongodb s3s-fs garage maildev)

# --- helpers -----------------------------------------------------------------------------------
log() { printf 'services: %s\n' "$*"; }
die() { printf 'services: error: %s\n' "$*" >&2; exit 1; }

as_root() { if [[ $EUID -eq 0 ]]; then "$@"; else sudo "$@"; fi; }

tcp_open() { timeout 2 bash -c "exec 3<>/dev/tcp/$HOST/$1" 2>/dev/null; }

http_status() { curl -s -o /dev/null -m 3 -w '%{http_code}' "$1" 2>/dev/null || true; }

# the PID this script recorded for a server, if that process is still alive and is that server
recorded_pid() {
  local name=$1 pid
  [[ -f "$STATE/$name.pid" ]] || return 1
  pid=$(<"$STATE/$name.pid")
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null &&
     tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$(proc_match "$name")"; then
    echo "$pid"
  else
    rm -f "$STATE/$name.pid"
    return 1
  fi
}

# a string that appears in the command line of each server's process
proc_match() {
  case $1 in
    tansu) echo "tansu broker" ;; mongodb) echo "nx-27017" ;; s3s-fs) echo "s3s-fs" ;;
    garage) echo "garage" ;; maildev) echo "maildev" ;;
  esac
}

# launch NAME CMD...: start a server detached from this script (own session, survives our exit),
# output to target/services/NAME.log (the previous log is kept as NAME.log.1), PID recorded
launch() {
  local name=$1; shift
  [[ -f "$STATE/$name.log" ]] && mv -f "$STATE/$name.log" "$STATE/$name.log.1"
  mkdir -p "$STATE/$name"
  # fds 8 and 9 hold this script's locks: the server must not inherit them
  (cd "$STATE/$name" && NO_COLOR=1 exec setsid nohup "$@" >"$STATE/$name.log" 2>&1 </dev/null 8>&- 9>&-) &
  echo $! >"$STATE/$name.pid"
}

fail_with_log() {
  local name=$1 msg=$2
  {
    printf 'services: error: %s\n' "$msg"
    if [[ -f "$STATE/$name.log" ]]; then
      printf 'services: last lines of %s:\n' "$STATE/$name.log"
      tail -n 40 "$STATE/$name.log" | sed 's/^/    /'
    fi
  } >&2
  exit 1
}

# wait_until NAME WHAT PROBE...: poll PROBE until it succeeds, at most WAIT_SECS; fail early if the
# process we started has exited
wait_until() {
  local name=$1 what=$2; shift 2
  local deadline=$((SECONDS + WAIT_SECS))
  until "$@"; do
    # liveness by PID alone: until the launched subshell has exec'd the server, its command line
    # is still this script's
    if [[ -f "$STATE/$name.pid" ]] && ! kill -0 "$(<"$STATE/$name.pid")" 2>/dev/null; then
      fail_with_log "$name" "$name exited before answering on $what"
    fi
    ((SECONDS < deadline)) || fail_with_log "$name" "$name did not answer on $what within ${WAIT_SECS}s"
    sleep 0.5
  done
}

# --- probes (each returns 0 when the server answers) ---------------------------------------------
pg_up() { pg_isready -q -h "$HOST" -p "$PG_PORT" 2>/dev/null; }

kafka_up() {
  tcp_open "$KAFKA_PORT" || return 1
  [[ -x "$PY" ]] || return 0
  "$PY" - "$HOST:$KAFKA_PORT" 2>/dev/null <<'PY'
import sys
from confluent_kafka.admin import AdminClient
md = AdminClient({"bootstrap.servers": sys.argv[1], "log_level": 0}).list_topics(timeout=3)
sys.exit(0 if md.brokers else 1)
PY
}

mongo_up() {
  tcp_open "$MONGO_PORT" || return 1
  [[ -x "$PY" ]] || return 0
  "$PY" -c "import pymongo; pymongo.MongoClient('mongodb://$HOST:$MONGO_PORT', serverSelectionTimeoutMS=2000).admin.command('ping')" 2>/dev/null
}

# aws CLIENT-ARGS...: the venv's aws-cli with this stack's config (region, path-style, s3v4) and
# no interference from ~/.aws; the caller sets AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY
aws_cli() {
  AWS_CONFIG_FILE="$STATE/aws.config" AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true \
    AWS_DEFAULT_REGION="$S3_REGION" AWS_MAX_ATTEMPTS=1 "$VENV/bin/aws" "$@"
}

write_aws_config() {
  cat >"$STATE/aws.config" <<EOF
[default]
region = $S3_REGION
s3 =
    addressing_style = path
    signature_version = s3v4
EOF
}

# s3_up PORT ACCESS SECRET: a signed HEAD of the bucket succeeds (keys, region and bucket all work)
s3_up() {
  local port=$1 ak=$2 sk=$3
  tcp_open "$port" || return 1
  [[ -x "$VENV/bin/aws" && -f "$STATE/aws.config" ]] || return 0
  AWS_ACCESS_KEY_ID=$ak AWS_SECRET_ACCESS_KEY=$sk aws_cli --endpoint-url "http://$HOST:$port" \
    --cli-connect-timeout 2 --cli-read-timeout 5 s3api head-bucket --bucket "$S3_BUCKET" >/dev/null 2>&1
}
garage_up() { s3_up "$GARAGE_PORT" "$GARAGE_ACCESS_KEY" "$GARAGE_SECRET_KEY"; }
s3fs_up() { s3_up "$S3FS_PORT" "$S3FS_ACCESS_KEY" "$S3FS_SECRET_KEY"; }

maildev_up() {
  tcp_open "$SMTP_PORT" && [[ "$(http_status "http://$HOST:$MAILDEV_PORT/healthz")" == 200 ]]
}

# --- installation ------------------------------------------------------------------------------
APT_UPDATED=
apt_install() {
  [[ -n $APT_UPDATED ]] || { log "apt-get update"; as_root apt-get update -qq; APT_UPDATED=1; }
  log "apt-get install $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

ensure_system_packages() {
  local need=()
  dpkg -s libpq-dev >/dev/null 2>&1 || need+=(libpq-dev)        # diesel's postgres feature links libpq
  command -v cmake >/dev/null || need+=(cmake)                    # C builds inside the cargo installs
  command -v cc >/dev/null || need+=(build-essential)
  command -v pkg-config >/dev/null || need+=(pkg-config)
  command -v curl >/dev/null || need+=(curl)
  command -v npm >/dev/null || need+=(nodejs npm)
  command -v python3 >/dev/null || need+=(python3)
  python3 -c 'import venv, ensurepip' 2>/dev/null || need+=(python3-venv)
  [[ -x /usr/sbin/nginx ]] || command -v nginx >/dev/null || need+=(nginx-light)   # the proxy test
  command -v litmus >/dev/null || need+=(litmus)                  # the WebDAV conformance suites
  command -v rclone >/dev/null || need+=(rclone)   # a WebDAV client people use; checks fmsctl sync
  if ! pg_up && ! command -v pg_ctlcluster >/dev/null; then need+=(postgresql); fi
  if ((${#need[@]})); then apt_install "${need[@]}"; fi
  command -v cargo >/dev/null || die "cargo is missing: install the Rust toolchain (https://rustup.rs)"
}

ensure_venv() {
  if "$PY" - "${PY_PINS[@]}" 2>/dev/null <<'PY'
import sys
from importlib.metadata import version
sys.exit(0 if all(version(p.split("==")[0]) == p.split("==")[1] for p in sys.argv[1:]) else 1)
PY
  then return 0; fi
  log "installing Python tools into $VENV: ${PY_PINS[*]}"
  "$PY" -c 'import sys' 2>/dev/null || { rm -rf "$VENV"; python3 -m venv "$VENV"; }
  "$VENV/bin/pip" install -q --disable-pip-version-check "${PY_PINS[@]}"
}

ensure_maildev() {
  [[ -x "$MAILDEV_DIR/node_modules/.bin/maildev" ]] &&
    grep -q "\"version\": \"$MAILDEV_VERSION\"" "$MAILDEV_DIR/node_modules/maildev/package.json" &&
    return 0
  log "installing maildev $MAILDEV_VERSION into $MAILDEV_DIR (npm)"
  npm install --prefix "$MAILDEV_DIR" --no-audit --no-fund --loglevel=error "maildev@$MAILDEV_VERSION" >/dev/null
}

# cargo_ensure BIN CRATE VERSION [cargo install args...]: one build at a time (2 cores); if a
# `cargo install` is already running on this machine (maybe of this very crate), wait for it first
cargo_ensure() {
  local bin=$1 crate=$2 version=$3; shift 3
  cargo_has "$bin" "$version" && return 0
  local waited=0
  while pgrep -f "cargo install " >/dev/null; do
    ((waited)) || log "waiting for a 'cargo install' already running on this machine: $(pgrep -af 'cargo install ' | head -n 1 | cut -d' ' -f2- | sed 's|^.*/cargo |cargo |')"
    waited=1
    sleep 10
  done
  cargo_has "$bin" "$version" && return 0
  local clog="$STATE/cargo-install-$crate.log" started=$SECONDS
  log "building $crate $version with cargo install (takes minutes; log: $clog)"
  if ! env -u CARGO_TARGET_DIR nice -n 10 cargo install "$crate@$version" --locked "$@" >"$clog" 2>&1; then
    tail -n 40 "$clog" | sed 's/^/    /' >&2
    die "cargo install $crate@$version failed (full log: $clog)"
  fi
  log "built $crate $version in $(((SECONDS - started) / 60)) min"
}
cargo_has() { [[ -x "$CARGO_BIN/$1" ]] && "$CARGO_BIN/$1" --version 2>/dev/null | grep -qF "$2"; }

install_all() {
  mkdir -p "$TOOLS"
  exec 8>"$TOOLS/.install.lock"
  flock 8
  ensure_system_packages
  ensure_venv
  ensure_maildev
  # sequential on purpose (2 cores): fastest first
  cargo_ensure s3s-fs s3s-fs "$S3SFS_VERSION" --features binary
  cargo_ensure tansu tansu "$TANSU_VERSION" --features dynostore   # default build has no storage engine
  cargo_ensure garage garage "$GARAGE_VERSION"
  flock -u 8
}

# --- servers -----------------------------------------------------------------------------------
start_postgres() {
  if ! pg_up; then
    local version
    version=$(find /etc/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' 2>/dev/null | sort -V | tail -n 1)
    [[ -n $version ]] || die "postgres: no cluster under /etc/postgresql"
    log "postgres: starting cluster $version/main"
    as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start 8>&- 9>&-
    echo "$version" >"$STATE/postgres.started-by-script"
    wait_until postgres "$HOST:$PG_PORT" pg_up
  fi
  # TCP logins with a password must work whatever pg_hba.conf says (this machine trusts 127.0.0.1)
  if ! as_root runuser -u postgres -- psql -q -X -c "ALTER USER postgres PASSWORD 'postgres'" 2>/dev/null; then
    PGPASSWORD=postgres psql -q -X -h "$HOST" -p "$PG_PORT" -U postgres -c "ALTER USER postgres PASSWORD 'postgres'" ||
      die "postgres: could not set the password of user postgres"
  fi
  log "postgres up on $HOST:$PG_PORT$(owner_note postgres)"
}

start_tansu() {
  if ! kafka_up && ! recorded_pid tansu >/dev/null; then
    launch tansu "$CARGO_BIN/tansu" broker \
      --listener-url "tcp://$HOST:$KAFKA_PORT" --advertised-listener-url "tcp://$HOST:$KAFKA_PORT" \
      --storage-engine memory://tansu/
  fi
  wait_until tansu "$HOST:$KAFKA_PORT" kafka_up
  log "tansu up on $HOST:$KAFKA_PORT$(owner_note tansu)"
}

start_mongodb() {
  if ! mongo_up && ! recorded_pid mongodb >/dev/null; then
    launch mongodb "$VENV/bin/nx-27017" --host "$HOST" -p "$MONGO_PORT" --data-dir memory \
      --log-file "$STATE/mongodb/nx-27017.log" --pid-file "$STATE/mongodb/nx-27017.pid"
  fi
  wait_until mongodb "$HOST:$MONGO_PORT" mongo_up
  log "nx-27017 (mongodb) up on $HOST:$MONGO_PORT$(owner_note mongodb)"
}

start_s3s_fs() {
  if ! s3fs_up && ! recorded_pid s3s-fs >/dev/null; then
    mkdir -p "$STATE/s3s-fs/data/$S3_BUCKET"       # a bucket is a sub-folder of the data dir
    launch s3s-fs "$CARGO_BIN/s3s-fs" --host "$HOST" --port "$S3FS_PORT" \
      --access-key "$S3FS_ACCESS_KEY" --secret-key "$S3FS_SECRET_KEY" "$STATE/s3s-fs/data"
  fi
  wait_until s3s-fs "$HOST:$S3FS_PORT" s3fs_up
  log "s3s-fs up on $HOST:$S3FS_PORT$(owner_note s3s-fs)"
}

start_garage() {
  if ! garage_up && ! recorded_pid garage >/dev/null; then
    local dir="$STATE/garage"
    # garage refuses to start if the stored default key has another secret: the stack is test data,
    # so start afresh when the keys changed
    if [[ -d "$dir/meta" && "$(cat "$dir/keys" 2>/dev/null)" != "$GARAGE_ACCESS_KEY:$GARAGE_SECRET_KEY" ]]; then
      log "garage: keys changed, discarding $dir/meta and $dir/data"
      rm -rf "$dir/meta" "$dir/data"
    fi
    mkdir -p "$dir/meta" "$dir/data"
    echo "$GARAGE_ACCESS_KEY:$GARAGE_SECRET_KEY" >"$dir/keys"
    [[ -s "$dir/rpc_secret" ]] || od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$dir/rpc_secret"
    cat >"$dir/garage.toml" <<EOF
metadata_dir = "$dir/meta"
data_dir = "$dir/data"
db_engine = "lmdb"
replication_factor = 1
rpc_bind_addr = "$HOST:$GARAGE_RPC_PORT"
rpc_public_addr = "$HOST:$GARAGE_RPC_PORT"
rpc_secret = "$(<"$dir/rpc_secret")"

[s3_api]
s3_region = "$S3_REGION"
api_bind_addr = "$HOST:$GARAGE_PORT"
root_domain = ".s3.garage.localhost"
EOF
    launch garage env GARAGE_DEFAULT_ACCESS_KEY="$GARAGE_ACCESS_KEY" \
      GARAGE_DEFAULT_SECRET_KEY="$GARAGE_SECRET_KEY" GARAGE_DEFAULT_BUCKET="$S3_BUCKET" \
      "$CARGO_BIN/garage" -c "$dir/garage.toml" server --single-node --default-bucket
  fi
  wait_until garage "$HOST:$GARAGE_PORT" garage_up
  log "garage up on $HOST:$GARAGE_PORT$(owner_note garage)"
}

start_maildev() {
  if ! maildev_up && ! recorded_pid maildev >/dev/null; then
    mkdir -p "$STATE/maildev/mail"
    launch maildev "$MAILDEV_DIR/node_modules/.bin/maildev" --ip "$HOST" --web-ip "$HOST" \
      -s "$SMTP_PORT" -w "$MAILDEV_PORT" --mail-directory "$STATE/maildev/mail"
  fi
  wait_until maildev "$HOST:$SMTP_PORT and http://$HOST:$MAILDEV_PORT/healthz" maildev_up
  log "maildev up on $HOST:$SMTP_PORT (smtp) and $HOST:$MAILDEV_PORT (http)$(owner_note maildev)"
}

owner_note() {
  local pid
  if [[ $1 == postgres ]]; then
    [[ -f "$STATE/postgres.started-by-script" ]] && echo " (started by this script)" || echo " (not started by this script)"
  elif pid=$(recorded_pid "$1"); then
    echo " (pid $pid)"
  else
    echo " (not started by this script)"
  fi
}

# the folder of PostgreSQL's server programs (initdb, pg_ctl), for tests that run a cluster of
# their own: the newest version Debian installed
pg_bindir() {
  find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin 2>/dev/null | sort -V | tail -n 1
}

write_env() {
  local tmp="$ENV_FILE.tmp"
  {
    echo "# written by scripts/services.sh start — source it: . target/services/services.env"
    local kv
    for kv in \
      "FMS_TEST_POSTGRES_URL=postgres://postgres:postgres@$HOST:$PG_PORT/postgres" \
      "FMS_TEST_KAFKA_BROKERS=$HOST:$KAFKA_PORT" \
      "FMS_TEST_MONGODB_URL=mongodb://$HOST:$MONGO_PORT" \
      "FMS_TEST_S3_ENDPOINT=http://$HOST:$GARAGE_PORT" \
      "FMS_TEST_S3_REGION=$S3_REGION" \
      "FMS_TEST_S3_ACCESS_KEY=$GARAGE_ACCESS_KEY" \
      "FMS_TEST_S3_SECRET_KEY=$GARAGE_SECRET_KEY" \
      "FMS_TEST_S3_BUCKET=$S3_BUCKET" \
      "FMS_TEST_S3FS_ENDPOINT=http://$HOST:$S3FS_PORT" \
      "FMS_TEST_S3FS_REGION=$S3_REGION" \
      "FMS_TEST_S3FS_ACCESS_KEY=$S3FS_ACCESS_KEY" \
      "FMS_TEST_S3FS_SECRET_KEY=$S3FS_SECRET_KEY" \
      "FMS_TEST_S3FS_BUCKET=$S3_BUCKET" \
      "FMS_TEST_SMTP_HOST=$HOST" \
      "FMS_TEST_SMTP_PORT=$SMTP_PORT" \
      "FMS_TEST_MAILDEV_URL=http://$HOST:$MAILDEV_PORT" \
      "FMS_TEST_PYTHON=$PY" \
      "FMS_TEST_AWS=$VENV/bin/aws" \
      "FMS_TEST_SCHEMATHESIS=$VENV/bin/schemathesis" \
      "FMS_TEST_AWS_CONFIG_FILE=$STATE/aws.config" \
      "FMS_TEST_TANSU=$CARGO_BIN/tansu" \
      "FMS_TEST_NX27017=$VENV/bin/nx-27017" \
      "FMS_TEST_S3FS=$CARGO_BIN/s3s-fs" \
      "FMS_TEST_MAILDEV=$MAILDEV_DIR/node_modules/.bin/maildev" \
      "FMS_TEST_PG_BINDIR=$(pg_bindir)" \
      "FMS_TEST_NGINX=$(command -v nginx || echo /usr/sbin/nginx)" \
      "FMS_TEST_FMSD_CONFIG=$STATE/fmsd.toml"; do
      printf 'export %s=%q\n' "${kv%%=*}" "${kv#*=}"
    done
  } >"$tmp"
  mv -f "$tmp" "$ENV_FILE"
  log "wrote $ENV_FILE"
}

# fmsd's settings for the stack this script started: `fmsd --config target/services/fmsd.toml`
# runs it on PostgreSQL, tansu, nx-27017, garage and maildev, with its own databases and topics.
write_fmsd_config() {
  local db url="postgres://postgres:postgres@$HOST:$PG_PORT"
  for db in fms_files fms_notifications; do
    if [[ "$(psql -X -tA "$url/postgres" -c "SELECT 1 FROM pg_database WHERE datname = '$db'")" != 1 ]]; then
      psql -X -q "$url/postgres" -c "CREATE DATABASE $db" >/dev/null
      log "created the PostgreSQL database $db"
    fi
  done
  cat >"$STATE/fmsd.toml.tmp" <<EOF
# written by scripts/services.sh start: fmsd on the servers it started (loopback only).
#   cargo run -p fmsd -- --config target/services/fmsd.toml
listen = "$HOST:8080"
data_dir = "$STATE/fmsd-data"
log_format = "pretty"

[stores]
customers = "mongodb://$HOST:$MONGO_PORT/fms"
files = "$url/fms_files"
notifications = "$url/fms_notifications"
blobs = "s3://$S3_BUCKET"
bus = "kafka://$HOST:$KAFKA_PORT"
mail = "smtp://$HOST:$SMTP_PORT"

[s3]
endpoint = "http://$HOST:$GARAGE_PORT"
region = "$S3_REGION"
path_style = true
access_key = "$GARAGE_ACCESS_KEY"
secret_key = "$GARAGE_SECRET_KEY"
key_prefix = "fmsd/"

[kafka]
partitions = 1
replication_factor = 1
topic_prefix = "stack."
group_prefix = "stack."

[smtp]
tls = "none"
EOF
  mv -f "$STATE/fmsd.toml.tmp" "$STATE/fmsd.toml"
  log "wrote $STATE/fmsd.toml (fmsd --config $STATE/fmsd.toml)"
}

# --- commands ----------------------------------------------------------------------------------
cmd_start() {
  local started=$SECONDS
  mkdir -p "$STATE"
  exec 9>"$STATE/.lock"
  flock 9                                    # two concurrent starts: the second waits, then no-ops
  install_all
  write_aws_config
  start_postgres
  start_tansu
  start_mongodb
  start_s3s_fs
  start_garage
  start_maildev
  write_fmsd_config
  write_env
  log "all servers up ($((SECONDS - started)) s)"
}

stop_server() {
  local name=$1 pid i
  if pid=$(recorded_pid "$name"); then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true; fi
    rm -f "$STATE/$name.pid"
    log "$name stopped (pid $pid)"
  else
    log "$name: nothing to stop (not started by this script)"
  fi
}

cmd_stop() {
  mkdir -p "$STATE"
  exec 9>"$STATE/.lock"
  flock 9
  local name
  for name in maildev garage s3s-fs mongodb tansu; do stop_server "$name"; done
  if [[ -f "$STATE/postgres.started-by-script" ]]; then
    local version
    version=$(<"$STATE/postgres.started-by-script")
    as_root pg_ctlcluster --skip-systemctl-redirect "$version" main stop
    rm -f "$STATE/postgres.started-by-script"
    log "postgres stopped (cluster $version/main)"
  else
    log "postgres: left running (not started by this script)"
  fi
}

cmd_status() {
  local name probe addr rc=0
  for name in "${SERVERS[@]}"; do
    case $name in
      postgres) probe=pg_up addr="$HOST:$PG_PORT" ;;
      tansu) probe=kafka_up addr="$HOST:$KAFKA_PORT" ;;
      mongodb) probe=mongo_up addr="$HOST:$MONGO_PORT" ;;
      s3s-fs) probe=s3fs_up addr="$HOST:$S3FS_PORT" ;;
      garage) probe=garage_up addr="$HOST:$GARAGE_PORT" ;;
      maildev) probe=maildev_up addr="$HOST:$SMTP_PORT,$MAILDEV_PORT" ;;
    esac
    if $probe; then
      printf '%-9s up    %s%s\n' "$name" "$addr" "$(owner_note "$name")"
    else
      printf '%-9s down  %s\n' "$name" "$addr"; rc=1
    fi
  done
  return $rc
}

cmd_env() {
  [[ -f "$ENV_FILE" ]] || die "$ENV_FILE does not exist: run scripts/services.sh start"
  cat "$ENV_FILE"
}

# check: one real round trip per server, with the clients from the venv
cmd_check() {
  [[ -f "$ENV_FILE" ]] || die "$ENV_FILE does not exist: run scripts/services.sh start"
  # shellcheck disable=SC1090
  . "$ENV_FILE"
  local failed=0 id tmp
  id="smoke-$(date +%s)-$$"
  tmp=$(mktemp -d)
  CHECK_TMP=$tmp
  trap 'rm -rf "$CHECK_TMP"' EXIT

  if psql -X -tA "$FMS_TEST_POSTGRES_URL" -c 'select 1' 2>&1 | grep -qx 1; then
    log "check postgres ok (select 1 via $FMS_TEST_POSTGRES_URL)"
  else log "check postgres FAILED"; failed=1; fi

  "$FMS_TEST_PYTHON" - "$id" <<'PY' || failed=1
import json, os, smtplib, sys, time, urllib.request
from email.message import EmailMessage
from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient, NewTopic
import pymongo

run_id, env, failed = sys.argv[1], os.environ, False

def check(name, fn):
    global failed
    try:
        print(f"services: check {name} ok ({fn()})", flush=True)
    except Exception as e:  # report every server, not just the first failure
        failed = True
        print(f"services: check {name} FAILED: {type(e).__name__}: {e}", flush=True)

def kafka():
    brokers, topic = env["FMS_TEST_KAFKA_BROKERS"], f"fms-{run_id}"
    admin = AdminClient({"bootstrap.servers": brokers})  # keep a reference until the futures resolve
    for fut in admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)]).values():
        fut.result(timeout=15)
    p = Producer({"bootstrap.servers": brokers})
    p.produce(topic, key=b"k", value=run_id.encode())
    if p.flush(15):
        raise RuntimeError("produce not acknowledged")
    c = Consumer({"bootstrap.servers": brokers, "group.id": f"g-{run_id}",
                  "auto.offset.reset": "earliest"})
    c.subscribe([topic])
    try:
        deadline = time.time() + 30
        while time.time() < deadline:
            m = c.poll(1.0)
            if m is None:
                continue
            if m.error():
                raise RuntimeError(m.error())
            if m.value() == run_id.encode():
                c.commit(m, asynchronous=False)
                return f"topic {topic}: produced and consumed 1 message, offset committed"
        raise RuntimeError("message not consumed within 30s")
    finally:
        c.close()

def mongo():
    coll = pymongo.MongoClient(env["FMS_TEST_MONGODB_URL"], serverSelectionTimeoutMS=5000)["fms_smoke"]["items"]
    coll.insert_one({"_id": run_id, "n": 1})
    doc = coll.find_one({"_id": run_id})
    coll.delete_one({"_id": run_id})
    if not doc or doc["n"] != 1:
        raise RuntimeError(f"find returned {doc!r}")
    return "insert_one/find_one/delete_one"

def smtp():
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "fms@example.test", "user@example.test", run_id
    msg.set_content("smoke check")
    with smtplib.SMTP(env["FMS_TEST_SMTP_HOST"], int(env["FMS_TEST_SMTP_PORT"]), timeout=10) as s:
        s.send_message(msg)
    deadline = time.time() + 10
    while time.time() < deadline:
        with urllib.request.urlopen(env["FMS_TEST_MAILDEV_URL"] + "/email", timeout=5) as r:
            mails = [m for m in json.load(r) if m.get("subject") == run_id]
        if mails:
            return f"sent via smtplib, read back from GET /email (id {mails[0]['id']})"
        time.sleep(0.3)
    raise RuntimeError("mail not listed by GET /email")

check("kafka (tansu)", kafka)
check("mongodb (nx-27017)", mongo)
check("smtp (maildev)", smtp)
sys.exit(1 if failed else 0)
PY

  echo "fms smoke $id" >"$tmp/up.txt"
  local name endpoint ak sk
  for name in garage s3s-fs; do
    if [[ $name == garage ]]; then
      endpoint=$FMS_TEST_S3_ENDPOINT ak=$FMS_TEST_S3_ACCESS_KEY sk=$FMS_TEST_S3_SECRET_KEY
    else
      endpoint=$FMS_TEST_S3FS_ENDPOINT ak=$FMS_TEST_S3FS_ACCESS_KEY sk=$FMS_TEST_S3FS_SECRET_KEY
    fi
    local key="s3://$FMS_TEST_S3_BUCKET/smoke/$id.txt"
    if AWS_ACCESS_KEY_ID=$ak AWS_SECRET_ACCESS_KEY=$sk aws_cli --endpoint-url "$endpoint" s3 cp --only-show-errors "$tmp/up.txt" "$key" &&
       AWS_ACCESS_KEY_ID=$ak AWS_SECRET_ACCESS_KEY=$sk aws_cli --endpoint-url "$endpoint" s3 cp --only-show-errors "$key" "$tmp/down-$name.txt" &&
       cmp -s "$tmp/up.txt" "$tmp/down-$name.txt" &&
       AWS_ACCESS_KEY_ID=$ak AWS_SECRET_ACCESS_KEY=$sk aws_cli --endpoint-url "$endpoint" s3 rm --only-show-errors "$key"; then
      log "check s3 ($name) ok (aws s3 cp up, down, identical, rm on $endpoint)"
    else
      log "check s3 ($name) FAILED"; failed=1
    fi
  done

  ((failed == 0)) || die "smoke check failed"
  log "all checks passed"
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  env) cmd_env ;;
  check) cmd_check ;;
  *) echo "usage: $0 start|stop|status|env|check" >&2; exit 2 ;;
esac
