#!/usr/bin/env bash
# Installs what the browser tests (fmsd/tests/browser/) drive: Debian's chromium and
# playwright-core (pinned, from npm, into ${FMS_TOOLS_DIR:-~/.cache/fms-tools}, the folder
# services.sh keeps its npm tools in). Idempotent: nothing is installed twice. Prints the two
# paths the tests read, as FMS_TEST_CHROMIUM and FMS_TEST_PLAYWRIGHT (a node_modules folder).
set -euo pipefail

PLAYWRIGHT_VERSION=1.49.1
TOOLS="${FMS_TOOLS_DIR:-$HOME/.cache/fms-tools}"
PLAYWRIGHT_DIR="$TOOLS/playwright-core-$PLAYWRIGHT_VERSION"

log() { printf 'browser.sh: %s\n' "$*" >&2; }

need=()
command -v chromium >/dev/null || need+=(chromium)
command -v node >/dev/null || need+=(nodejs)
command -v npm >/dev/null || need+=(npm)
if ((${#need[@]})); then
  log "installing ${need[*]} (apt)"
  if [[ $(id -u) -eq 0 ]]; then sudo=(); else sudo=(sudo); fi
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${need[@]}" >/dev/null
fi

if ! grep -qs "\"version\": \"$PLAYWRIGHT_VERSION\"" \
  "$PLAYWRIGHT_DIR/node_modules/playwright-core/package.json"; then
  log "installing playwright-core $PLAYWRIGHT_VERSION into $PLAYWRIGHT_DIR (npm)"
  mkdir -p "$PLAYWRIGHT_DIR"
  npm install --prefix "$PLAYWRIGHT_DIR" --no-audit --no-fund --loglevel=error \
    "playwright-core@$PLAYWRIGHT_VERSION" >/dev/null
fi

echo "export FMS_TEST_CHROMIUM=$(command -v chromium)"
echo "export FMS_TEST_PLAYWRIGHT=$PLAYWRIGHT_DIR/node_modules"
