#!/usr/bin/env bash
# test_pair_jobs.sh — pairs as jobs (issue #20 item 4; docs/reproducibility.md "Pairs as
# jobs"): a tiny core-ablation run with one group of 4 seeds, once as one process without pair
# jobs and once with analysis.pair_jobs forced on under `mpirun -np 2`, gives the same
# `husai inspect --checksums` of every analysis dataset and the same analysis results.json;
# the pair jobs ran on both ranks; `husai audit --recompute` passes on the pair-job run; and a
# pair cache that is truncated, made for another pair, or whose values were changed is
# refused with an error naming it, never used.  The MPI half is skipped (the rest still runs)
# when mpirun is missing or husai was built without MPI; the whole test is skipped (77) only
# if it cannot run the MPI half.
. "${HUSAI_SOURCE_DIR:?}/tests/script_lib.sh" pair_jobs
export OMP_NUM_THREADS=1 HUSAI_QUIET=1
small=(--set experiment.seeds=1,2,3,4 --set 'experiment.k_values=[4]'
       --set 'experiment.d_sae_values=[]' --set experiment.fixed_k=4
       --set experiment.fixed_d_sae=32)
conf="$src/tests/fixtures/golden/config.yaml"
cond=k_sweep_dsae32_k4
# every analysis dataset's sha256 (attributes aside), every SAE checkpoint dataset's (the
# inputs: the same bits in every run), and the sha256 of results.json read as if the run were
# $tmp/a: a run's results.json names its checkpoints by path and by the file's sha256, and
# the files differ in their created_utc attribute, so those two strings are mapped to run a's
# (nothing else is touched: the rest must be the same bytes)
sums() {
	local r=$1 map=(-e "s|$1/|$tmp/a/|g") s
	for s in 1 2 3 4; do
		map+=(-e "s|$(sha256sum <"$r/sae/$cond/sae_seed$s.h5" | cut -d' ' -f1)|$(sha256sum <"$tmp/a/sae/$cond/sae_seed$s.h5" | cut -d' ' -f1)|g")
	done
	{ (cd "$r/analysis/$cond" && "$bin" inspect --checksums analysis.h5 | grep -v "@" | grep sha256)
	  (cd "$r/sae/$cond" && for s in 1 2 3 4; do "$bin" inspect --checksums sae_seed$s.h5 |
		grep -v "@" | grep sha256; done)
	  echo "results.json $(sed "${map[@]}" "$r/analysis/$cond/results.json" | sha256sum)"; } >"$2"
}

"$bin" run "${small[@]}" --set analysis.pair_jobs=off --out "$tmp/a" "$conf" >"$tmp/a.log" 2>&1; st=$?
check "single-process run without pair jobs succeeds (status $st)" test "$st" -eq 0
check "it declared no pair job" test -z "$(ls "$tmp/a/jobs" | grep '^pair_')"
sums "$tmp/a" "$tmp/a.sums"
check "analysis datasets were digested" test "$(grep -c sha256 "$tmp/a.sums")" -gt 10

# one process, pair jobs on: 6 trained + (6 + 16) R1 + (6 + 16) R2 products
"$bin" run "${small[@]}" --set analysis.pair_jobs=on --out "$tmp/b" "$conf" >"$tmp/b.log" 2>&1; st=$?
check "single-process run with pair jobs succeeds (status $st)" test "$st" -eq 0
check "50 pair jobs, each with its cache" test "$(ls "$tmp/b/analysis/$cond/pairs" | grep -c '\.h5$')" -eq 50
sums "$tmp/b" "$tmp/b.sums"
check "pair jobs on one process: the same analysis bytes" cmp "$tmp/a.sums" "$tmp/b.sums"
check "audit --recompute of the pair-job run passes" "$bin" audit -q --recompute "$tmp/b"

# the caches are untrusted input: each bad one is refused, naming the file, and nothing of
# the analysis is written
group=$(for s in 1 2 3 4; do printf '%s' "${sep:-}$tmp/b/sae/$cond/sae_seed$s.h5"; sep=,; done)
pc="$tmp/b/analysis/$cond/pairs"
bad_cache() { # $1: what; the rest: how to spoil a copy of the caches in $tmp/pc
	local what=$1; shift
	rm -rf "$tmp/pc" "$tmp/o"; cp -r "$pc" "$tmp/pc"; "$@"
	"$bin" analyze --group "$cond=$group" --control r1 --bootstrap 200 --pair-cache "$tmp/pc" \
		--out "$tmp/o" >"$tmp/bad.log" 2>&1
	local st=$?
	check "$what: refused (status $st)" test "$st" -eq 1
	check "$what: the error names the cache" grep -q "$tmp/pc/${cond}_" "$tmp/bad.log"
	check "$what: no output (analysis.h5, results.json, CSV, manifest)" \
		test -z "$(ls "$tmp/o" 2>/dev/null)"
}
bad_cache "a truncated cache" sh -c "head -c 2000 '$pc/${cond}_3.h5' >'$tmp/pc/${cond}_3.h5'"
bad_cache "another pair's cache" cp "$pc/${cond}_0.h5" "$tmp/pc/${cond}_1.h5"
bad_cache "a cache that is not HDF5" sh -c "echo junk >'$tmp/pc/${cond}_2.h5'"
# product 20 is an R1 cross pair: the trained pairs' CSV was written by then, and is removed
bad_cache "a truncated control cache" sh -c "head -c 2000 '$pc/${cond}_20.h5' >'$tmp/pc/${cond}_20.h5'"
# an attribute's hex text replaced in place (same length): the payload's sha256 (as if the
# values had been changed) or decoder a's key (a cache made for another decoder)
patch_attr() { # $1: attribute name
	local old; old=$("$bin" inspect "$tmp/pc/${cond}_0.h5" | sed -n "s/^    @$1 = \"\([0-9a-f]*\)\"$/\1/p")
	python3 -c 'import sys; p, o = sys.argv[1], sys.argv[2].encode(); b = open(p, "rb").read()
assert len(o) == 64 and b.count(o) == 1; open(p, "wb").write(b.replace(o, bytes(reversed(o))))' \
		"$tmp/pc/${cond}_0.h5" "$old"
}
bad_cache "a cache whose values do not hash to its payload_sha256" patch_attr payload_sha256
bad_cache "a cache made for another decoder" patch_attr key_a
# absent caches are computed: the analysis bytes do not depend on which are there
rm -rf "$tmp/pc" "$tmp/o" "$tmp/o2"; mkdir -p "$tmp/pc"; cp "$pc/${cond}_0.h5" "$pc/${cond}_5.h5" "$tmp/pc/"
"$bin" analyze --group "$cond=$group" --control r1 --bootstrap 200 --pair-cache "$tmp/pc" --out "$tmp/o" >/dev/null 2>&1
"$bin" analyze --group "$cond=$group" --control r1 --bootstrap 200 --out "$tmp/o2" >/dev/null 2>&1
h5sums() { "$bin" inspect --checksums "$1" | grep -v "@" | grep sha256; }
check "some caches present, others computed: the same analysis datasets" \
	test "$(h5sums "$tmp/o/analysis.h5")" = "$(h5sums "$tmp/o2/analysis.h5")"
check "... and the same results.json" cmp "$tmp/o/results.json" "$tmp/o2/results.json"
check "--pair-only past the last product is refused" \
	test "$("$bin" analyze --group "$cond=$group" --control r1 --pair-cache "$tmp/pc" --pair-only 28 >/dev/null 2>&1; echo $?)" -eq 2
check "a --pair-count running past the last product is refused, writing nothing" \
	test "$("$bin" analyze --group "$cond=$group" --control r1 --pair-cache "$tmp/pz" --pair-only 25 \
		--pair-count 4 >/dev/null 2>&1; echo $?)" -eq 2 -a -z "$(ls "$tmp/pz" 2>/dev/null)"

# three seeds: 3 + 3 models cannot reach p < 0.05, so the seed-level test is not run and its
# cross products are not among the pair jobs' (3 trained + 3 R1 + 3 R2 = 9 products): caches
# made for each of them give the bytes of an analysis without caches
g3=$(for s in 1 2 3; do printf '%s' "${sep3:-}$tmp/b/sae/$cond/sae_seed$s.h5"; sep3=,; done)
for p in 0 1 2 3 4 5 6 7 8; do
	"$bin" analyze --group "$cond=$g3" --bootstrap 200 --pair-cache "$tmp/p3" --pair-only $p >/dev/null 2>&1 ||
		echo "pair-only $p failed" >>"$tmp/p3.err"
done
check "3 seeds: 9 pair caches, none failed" test "$(ls "$tmp/p3" | grep -c '\.h5$')" -eq 9 -a ! -e "$tmp/p3.err"
check "3 seeds: a 10th product does not exist" \
	test "$("$bin" analyze --group "$cond=$g3" --pair-cache "$tmp/p3" --pair-only 9 >/dev/null 2>&1; echo $?)" -eq 2
"$bin" analyze --group "$cond=$g3" --bootstrap 200 --out "$tmp/n3" >/dev/null 2>&1
"$bin" analyze --group "$cond=$g3" --bootstrap 200 --pair-cache "$tmp/p3" --out "$tmp/c3" >/dev/null 2>&1
check "3 seeds from the caches: the same analysis datasets" cmp \
	<(cd "$tmp/n3" && "$bin" inspect --checksums analysis.h5 | grep -v "@" | grep sha256) \
	<(cd "$tmp/c3" && "$bin" inspect --checksums analysis.h5 | grep -v "@" | grep sha256)
check "3 seeds: the permutation test is marked not run" grep -q '"computed": false' "$tmp/c3/results.json"

# two ranks, pair jobs forced on
if ! command -v mpirun >/dev/null; then
	echo "SKIP (MPI half): no mpirun"; mpi_skip=1
elif ! "$bin" version | grep -q "^mpi: MPI"; then
	echo "SKIP (MPI half): husai built without MPI"; mpi_skip=1
else
	mpi_skip=0
	export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
	mpi=(env "ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" mpirun --oversubscribe -np 2)
	# 7 products a job (analysis.pair_job_products): 8 jobs, the last of one product
	"${mpi[@]}" "$bin" run "${small[@]}" --set analysis.pair_jobs=on --set analysis.pair_job_products=7 \
		--out "$tmp/c" "$conf" >"$tmp/c.log" 2>&1; st=$?
	check "two-rank run with pair jobs succeeds (status $st)" test "$st" -eq 0
	check "8 pair jobs of up to 7 products, 50 caches" test "$(ls "$tmp/c/jobs" | grep -c '^pair_.*\.done\.json$')" -eq 8 -a \
		"$(ls "$tmp/c/analysis/$cond/pairs" | grep -c '\.h5$')" -eq 50
	sums "$tmp/c" "$tmp/c.sums"
	check "mpirun -np 2 with pair jobs: the same analysis bytes as one process without" \
		cmp "$tmp/a.sums" "$tmp/c.sums"
	pair_ran_on() { grep -l "\"rank\": $1\b" "$tmp/c"/jobs/pair_*.done.json 2>/dev/null | head -1; }
	check "rank 0 ran pair jobs" test -n "$(pair_ran_on 0)"
	check "rank 1 ran pair jobs" test -n "$(pair_ran_on 1)"
	check "audit --recompute of the two-rank pair-job run passes" "$bin" audit -q --recompute "$tmp/c"
fi
if [ "$fail" -eq 0 ] && [ "$mpi_skip" -eq 1 ]; then
	echo "$passed passed (MPI half skipped)"; rm -rf "$tmp"; exit 77
fi
finish pair_jobs
