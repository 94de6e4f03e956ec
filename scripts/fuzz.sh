#!/usr/bin/env bash
# fuzz.sh [seconds-per-target] [target...] — build the libFuzzer targets (config h5 json
# safetensors pt rundir) with clang and run
# each for the given time (default 60 s) from the committed corpus (tests/fuzz/corpus/<t>).
# New interesting inputs go to build-fuzz/corpus/<t>; crashes to build-fuzz/crashes/<t>/
# (copy each into tests/fuzz/corpus/<t>/ once fixed: the test suite replays that corpus).
# Prints one line per target: executions, seconds, crashes.  Runs unsymbolized (symbolize=0):
# the h5 target's validator process (formats/h5guard.c) dies under ASan on every input that
# crashes libhdf5, and symbolizing each of those reports spawned llvm-symbolizer, three
# quarters of the run time; each crash found is replayed once symbolized into <crash>.log.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}; shift || true
targets=("${@:-config h5 json safetensors pt rundir}")
targets=(${targets[*]})
scripts/install-deps.sh
if [ "$(id -u)" -eq 0 ]; then
	for p in clang libclang-rt-14-dev libomp-14-dev; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$p" >/dev/null
	done
fi
CC=clang cmake -S . -B build-fuzz -DHUSAI_FUZZ=ON -DCMAKE_BUILD_TYPE=fuzz >/dev/null
cmake --build build-fuzz -j"$(nproc)" --target $(printf 'fuzz_%s ' "${targets[@]}") >/dev/null
printf '%-8s %14s %8s %8s\n' target executions seconds crashes
for t in "${targets[@]}"; do
	mkdir -p "build-fuzz/corpus/$t" "build-fuzz/crashes/$t"
	log="build-fuzz/fuzz_$t.log"
	# h5: a corrupt file makes libhdf5 ask for gigabytes or more (in the guard's validator
	# process too, where libFuzzer's malloc limit would save the parent's input as an "oom-"
	# crash); under ASan each such request took seconds.  Requests above 1 GiB fail instead,
	# as they may in production, and libhdf5 reports the error; the RSS limit still holds.
	# h5 also runs without libFuzzer's leak check after each input: libhdf5 1.10.8 keeps memory
	# across calls (its free lists, and property lists a failed H5Dopen2 leaves in its ID
	# table), so nearly every corrupt input looked like a leak, and each check stopped the
	# fuzzer to scan 400+ MB: most of the run.  LeakSanitizer still checks the whole run at
	# exit, and test_fuzz_replay leak-checks every corpus file in the ASan build.
	asan=detect_leaks=1:symbolize=0 extra=()
	[ "$t" = h5 ] && asan=$asan:allocator_may_return_null=1:max_allocation_size_mb=1024 &&
		extra=(-detect_leaks=0)
	ASAN_OPTIONS=$asan LSAN_OPTIONS=suppressions=tests/lsan.supp ./build-fuzz/tests/fuzz/fuzz_$t -max_total_time="$secs" \
		-artifact_prefix="build-fuzz/crashes/$t/" -print_final_stats=1 -rss_limit_mb=4096 -timeout=120 "${extra[@]}" \
		"build-fuzz/corpus/$t" "tests/fuzz/corpus/$t" >"$log" 2>&1 || true
	execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | awk '{print $2}' | tail -1)
	for c in "build-fuzz/crashes/$t"/*; do
		[ -e "$c" ] && [ "${c%.log}" = "$c" ] && [ ! -e "$c.log" ] || continue
		ASAN_OPTIONS=${asan/symbolize=0/symbolize=1} LSAN_OPTIONS=suppressions=tests/lsan.supp \
			./build-fuzz/tests/fuzz/fuzz_$t -timeout=120 "$c" >"$c.log" 2>&1 || true
	done
	crashes=$(ls "build-fuzz/crashes/$t" | grep -vc '\.log$' || true)
	printf '%-8s %14s %8s %8s\n' "$t" "${execs:-?}" "$secs" "$crashes"
done
