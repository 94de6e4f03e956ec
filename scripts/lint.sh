#!/usr/bin/env bash
# lint.sh — cppcheck over the whole tree (warnings, portability); exits non-zero on findings.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cppcheck >/dev/null || { [ "$(id -u)" -eq 0 ] && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq cppcheck >/dev/null; }
cppcheck --quiet --error-exitcode=1 --enable=warning,portability --std=c11 --inline-suppr \
	-I numeric -I formats -I formats/import -I train -I analyze -I run -I report -I report/plot -I . --suppress=missingIncludeSystem \
	--suppressions-list=scripts/cppcheck.supp -D__GNUC__ numeric formats train analyze run report husai.c tests
echo "cppcheck: clean"
