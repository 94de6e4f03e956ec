#!/usr/bin/env bash
# test_golden.sh — the cross-machine check (docs/reproducibility.md): a tiny whole pipeline
# (tests/fixtures/golden/config.yaml: transformer -> activations -> SAEs -> analyses) is run
# under every instruction-set path this CPU has (HUSAI_ISA), 1 and 2 threads, --jobs 1 and 2,
# and 2 MPI ranks when mpirun is here; every HDF5 dataset's sha256 of every run must equal the
# digests committed in tests/fixtures/golden/digests.txt, which were made on another machine.
# The machines that build and test husai differ in CPU model from one run to the next, so a
# numeric path that depends on the CPU fails here.  husai must not link an optimised BLAS.
#   HUSAI_GOLDEN_UPDATE=1 ... rewrites digests.txt (only when the numeric core's version
#   changes on purpose: say why in docs/reproducibility.md's history).
#   HUSAI_GOLDEN_QUICK=1 ... one configuration only (the sanitizer build sets it).
. "${HUSAI_SOURCE_DIR:?}/tests/script_lib.sh" golden
conf="$src/tests/fixtures/golden/config.yaml"
want="$src/tests/fixtures/golden/digests.txt"
export HUSAI_QUIET=1
# every dataset's sha256 in every HDF5 file of a run, sorted, without the run's path
digest() { (cd "$1" && find . -name '*.h5' | sort | while read -r f; do
	"$bin" inspect --checksums "$f" | grep -v "@" | grep sha256 | sed "s|^|$f |"; done) >"$2"; }

check "husai links no optimised BLAS" bash -c "! ldd '$bin' | grep -qi -e openblas -e libblas -e mkl"

isas=()
for isa in scalar avx2 avx512 neon; do
	HUSAI_ISA=$isa "$bin" version >/dev/null 2>&1 && isas+=("$isa")
done
check "at least the scalar path runs" test "${#isas[@]}" -ge 1
best=${isas[${#isas[@]}-1]}
echo "instruction-set paths here: ${isas[*]}"

configs=()
if [ -n "${HUSAI_GOLDEN_QUICK:-}" ]; then
	configs=("$best 2 2")
else
	# threads inside one job (t1 vs t2 with one job) under every path; two jobs side by side
	for isa in "${isas[@]}"; do configs+=("$isa 1 1" "$isa 2 1"); done
	configs+=("$best 2 2")
fi

first=
for c in "${configs[@]}"; do
	read -r isa threads jobs <<<"$c"
	name="$isa-t$threads-j$jobs"
	HUSAI_ISA=$isa OMP_NUM_THREADS=$threads "$bin" run --jobs "$jobs" --out "$tmp/$name" "$conf" \
		>"$tmp/$name.log" 2>&1
	st=$?
	check "run $name succeeds (status $st)" test "$st" -eq 0
	[ "$st" -eq 0 ] || { tail -5 "$tmp/$name.log"; continue; }
	digest "$tmp/$name" "$tmp/$name.sums"
	check "run $name digested" test -s "$tmp/$name.sums"
	[ -z "$first" ] && first=$name
	if [ -n "${HUSAI_GOLDEN_UPDATE:-}" ] && [ "$name" = "$first" ]; then
		cp "$tmp/$name.sums" "$want"
		echo "wrote $want"
	fi
	if ! cmp -s "$want" "$tmp/$name.sums"; then
		check "run $name has the golden digests" false
		diff "$want" "$tmp/$name.sums" | head -20
	else
		passed=$((passed + 1))
	fi
done

if [ -z "${HUSAI_GOLDEN_QUICK:-}" ] && command -v mpirun >/dev/null && "$bin" version | grep -q "^mpi: MPI"; then
	export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
	OMP_NUM_THREADS=1 mpirun --oversubscribe -np 2 "$bin" run --out "$tmp/mpi2" "$conf" >"$tmp/mpi2.log" 2>&1
	st=$?
	check "2-rank MPI run succeeds (status $st)" test "$st" -eq 0
	digest "$tmp/mpi2" "$tmp/mpi2.sums"
	check "2-rank MPI run has the golden digests" cmp -s "$want" "$tmp/mpi2.sums"
fi
finish
