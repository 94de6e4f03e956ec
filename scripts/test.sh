#!/usr/bin/env bash
# test.sh [release|asan] — install what is missing, build, and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
dir=$(scripts/build.sh "${1:-release}")
cd "$dir"
ctest --output-on-failure -j2 --timeout 900
