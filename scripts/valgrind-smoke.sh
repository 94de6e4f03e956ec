#!/usr/bin/env bash
# valgrind-smoke.sh [build-dir] — run a small smoke experiment under valgrind memcheck, every
# child process included; fail on any memory error or definite leak.  Logs: $TMP/vg.<pid>.log
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
command -v valgrind >/dev/null || { [ "$(id -u)" -eq 0 ] && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >/dev/null; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
HUSAI_QUIET=1 valgrind --trace-children=yes --error-exitcode=99 --leak-check=full \
	--errors-for-leak-kinds=definite --show-leak-kinds=definite --log-file="$tmp/vg.%p.log" \
	"$dir/husai" run --set data.p=31 --set experiment.expect.p=31 --set sae.d_sae=256 \
	--set experiment.expect.d_sae=256 --set sae.epochs=1 --set sae.batch_size=256 \
	--set transformer.batch_size=256 --out "$tmp/run" configs/smoke.yaml >/dev/null
procs=$(ls "$tmp"/vg.*.log | wc -l)
errors=$(grep -h "ERROR SUMMARY" "$tmp"/vg.*.log | awk '{s += $4} END {print s + 0}')
lost=$(grep -h "definitely lost:" "$tmp"/vg.*.log | awk '{gsub(",", "", $4); s += $4} END {print s + 0}')
echo "valgrind: $procs processes, $errors errors, $lost bytes definitely lost"
[ "$errors" -eq 0 ] && [ "$lost" -eq 0 ]
