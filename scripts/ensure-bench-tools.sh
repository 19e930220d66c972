#!/usr/bin/env bash
# The HTTP benchmarks drive load with wrk (Debian's package); install it when missing and we may.
set -euo pipefail
if command -v wrk >/dev/null; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  (apt-get install -y -qq wrk >/dev/null 2>&1) || (apt-get update -qq && apt-get install -y -qq wrk >/dev/null)
else
  echo "wrk is missing and cannot be installed here; the throughput rows will say so." >&2
fi
