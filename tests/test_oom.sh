#!/usr/bin/env bash
# test_oom.sh — out of memory never hangs or crashes: train-sae, analyze and husai run under
# address-space limits (ulimit -v, in a subshell) from ones where nothing fits to ones where
# everything does.  Each must end within its timeout (a hang fails the test instead of
# stalling the suite), never by a signal, and when it fails it says so in a husai line about
# memory.  OpenBLAS, whose thread spun forever after a failed allocation, is no longer linked;
# libgomp's "Thread creation failed" exit is followed by husai's own line (husai.c).
# (Below ~50 MB the dynamic loader itself cannot map husai's libraries: exit 127 before main.)
# AddressSanitizer reserves terabytes of address space for its shadow memory, so an address-
# space limit stops the sanitizer itself before husai starts: this test is the Release build's
if ldd "${HUSAI_BIN:?}" 2>/dev/null | grep -q -e libasan -e libtsan; then
	echo "SKIP: a sanitizer build cannot run under ulimit -v"; exit 77
fi
. "${HUSAI_SOURCE_DIR:?}/tests/script_lib.sh" oom
# the smoke experiment at full size, unlimited: the inputs of the limited runs
"$bin" run --out "$tmp/r" "$src/configs/smoke.yaml" >/dev/null 2>&1
check "the unlimited smoke run succeeds" test -e "$tmp/r/manifest.json"
(cd "$tmp/r" && "$bin" train-sae --config jobs/sae.yaml --activations activations.h5 --out two \
	--seeds 42,43 >/dev/null 2>&1)
check "two SAEs to analyse" test -e "$tmp/r/two/smoke/sae_seed43.h5"

# limited CMD...: run under ulimit -v $kb with a timeout; judge status and message
limited() {
	local what=$1 kb=$2; shift 2
	(ulimit -v "$kb"; exec timeout -k 5 120 "$@") >"$tmp/out" 2>&1
	local st=$?
	check "$what under $((kb / 1000)) MB ends in time (status $st)" test "$st" -ne 124 -a "$st" -ne 137
	check "$what under $((kb / 1000)) MB is not killed by a signal (status $st)" test "$st" -lt 128
	if [ "$st" -ne 0 ]; then
		check "$what under $((kb / 1000)) MB says it ran out of memory" \
			grep -Eqi "^(  \| )?husai: .*(memory|allocate)" "$tmp/out"
	fi
}
cd "$tmp/r" || exit 1
for kb in 60000 80000 100000 120000 200000 400000 800000; do
	rm -rf "$tmp/t" "$tmp/a"
	limited train-sae $kb "$bin" train-sae --config jobs/sae.yaml --activations activations.h5 \
		--out "$tmp/t" --seeds 42,43,44
	limited analyze $kb "$bin" analyze --group g=two/smoke/sae_seed42.h5,two/smoke/sae_seed43.h5 \
		--out "$tmp/a"
done
for kb in 60000 100000; do
	rm -rf "$tmp/run"
	limited run $kb "$bin" run --out "$tmp/run" "$src/configs/smoke.yaml"
	check "no job of the limited run is left running" test -z "$(pgrep -f -- "husai .*$tmp/run")"
done
cd /
finish
