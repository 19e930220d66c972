#!/usr/bin/env bash
# Browser tests drive Debian's chromium; install it when missing and we may.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  echo "Installing Debian's chromium for the browser tests..."
  (apt-get install -y -qq chromium >/dev/null 2>&1) || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)
else
  echo "chromium is missing and cannot be installed here (not root); browser tests will be skipped." >&2
fi
