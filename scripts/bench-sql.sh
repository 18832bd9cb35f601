#!/usr/bin/env bash
# SQL layer benchmark (figures, not a test): the same statements through DbConnection (diesel's
# MultiConnection, which the files and notifications stores use on both engines) and through the
# engine's own connection, side by side, on SQLite and on PostgreSQL (from scripts/services.sh).
#
#   scripts/bench-sql.sh [STATEMENTS]     point reads per round (default 20000; a tenth as writes)
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/services.sh start >&2
# shellcheck disable=SC1091
source target/services/services.env
BENCH_STATEMENTS=${1:-20000} FMS_TEST_POSTGRES_URL="$FMS_TEST_POSTGRES_URL" \
  cargo bench --locked -p fmsd --bench sql_layer
