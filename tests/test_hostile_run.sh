#!/usr/bin/env bash
# test_hostile_run.sh — run directories and files from strangers (RELIABILITY.md, "Untrusted
# archives"): `husai audit` and `husai report` on a manifest listing ../../../../dev/zero, a
# FIFO, a symbolic link to /dev/zero, a path through a symlinked directory; unlisted FIFOs and
# symbolic links; `husai run` on a config that is a device or too large.  Each must end quickly
# (every command runs under `timeout`: the old code hung or read GiBs), exit non-zero where
# something is refused, and name the file and what was expected.
. "${HUSAI_SOURCE_DIR:?}/tests/script_lib.sh" hostile_run
T=20 # seconds; every case below takes well under one
zero64=0000000000000000000000000000000000000000000000000000000000000000

# a small valid run directory: one artifact, listed with its checksum
mkrun() { # dir, extra JSON entries for "artifacts" (after the good one), for "inputs"
	rm -rf "$1"; mkdir -p "$1"
	printf 'hello\n' >"$1/a.txt"
	local sha; sha=$(sha256sum "$1/a.txt" | cut -d' ' -f1)
	printf '{"artifacts": [{"path": "a.txt", "sha256": "%s", "bytes": 6}%s], "inputs": [%s]}\n' \
		"$sha" "$2" "$3" >"$1/manifest.json"
}
audit() { # dir: status in $st, stdout in $tmp/out, stderr in $tmp/err
	timeout $T "$bin" audit "$1" >"$tmp/out" 2>"$tmp/err"; st=$?
}

r=$tmp/ok; mkrun "$r" "" ""
audit "$r"
check "a plain run passes the audit (got $st)" test "$st" -eq 0

# an artifact outside the run: refused before anything is opened
r=$tmp/dotdot; mkrun "$r" ", {\"path\": \"../../../../dev/zero\", \"sha256\": \"$zero64\"}" ""
audit "$r"
check "artifact ../../../../dev/zero: exit 1, no hang (got $st)" test "$st" -eq 1
check "artifact ../../../../dev/zero: names the manifest and the entry" \
	grep -q "$r/manifest.json:artifacts.1: expected a path inside the run directory" "$tmp/err"
r=$tmp/dotdot_mid; mkrun "$r" ", {\"path\": \"sub/../../x\", \"sha256\": \"$zero64\"}" ""
audit "$r"
check "artifact sub/../../x: exit 1 (got $st)" test "$st" -eq 1

# an input outside the run: not read (listed as outside), no hang
r=$tmp/input_out; mkrun "$r" "" "{\"path\": \"../../../../dev/zero\", \"sha256\": \"$zero64\"}"
audit "$r"
check "input ../../../../dev/zero: not read, no hang (got $st)" test "$st" -eq 0
check "input ../../../../dev/zero: listed as outside" grep -q "^outside   ../../../../dev/zero" "$tmp/out"

# a listed FIFO, a listed symbolic link to /dev/zero, a path through a symlinked directory
r=$tmp/fifo; mkrun "$r" ", {\"path\": \"f\", \"sha256\": \"$zero64\"}" ""
mkfifo "$r/f"
audit "$r"
check "listed FIFO: exit 1, no hang (got $st)" test "$st" -eq 1
check "listed FIFO: refused as a FIFO" grep -q "^refused   f (a FIFO; expected a regular file inside the run directory" "$tmp/out"
check "listed FIFO: the summary counts it" grep -q "1 refused" "$tmp/err"
r=$tmp/symlink; mkrun "$r" ", {\"path\": \"z\", \"sha256\": \"$zero64\"}" ""
ln -s /dev/zero "$r/z"
audit "$r"
check "listed symlink to /dev/zero: exit 1, no hang (got $st)" test "$st" -eq 1
check "listed symlink to /dev/zero: refused as a symbolic link" grep -q "^refused   z (a symbolic link" "$tmp/out"
r=$tmp/symdir; mkrun "$r" ", {\"path\": \"d/passwd\", \"sha256\": \"$zero64\"}" ""
ln -s /etc "$r/d"
audit "$r"
check "path through a symlinked directory: exit 1 (got $st)" test "$st" -eq 1
check "path through a symlinked directory: refused" grep -q "^refused   d/passwd ('d' is a symbolic link, expected a directory" "$tmp/out"
r=$tmp/manifest_link; mkrun "$r" "" ""
mv "$r/manifest.json" "$tmp/elsewhere.json"; ln -s "$tmp/elsewhere.json" "$r/manifest.json"
audit "$r"
check "manifest.json a symbolic link: exit 1 (got $st)" test "$st" -eq 1
check "manifest.json a symbolic link: named" grep -q "manifest.json: a symbolic link; expected a regular file" "$tmp/err"

# unlisted special files and symbolic links are reported
r=$tmp/unlisted; mkrun "$r" "" ""
mkdir "$r/sub"; mkfifo "$r/sub/pipe"; ln -s /dev/zero "$r/zero"; ln -s /etc "$r/etc"
audit "$r"
check "unlisted FIFO and symlinks: exit 1 (got $st)" test "$st" -eq 1
check "unlisted FIFO reported" grep -q "^refused   sub/pipe (a FIFO, not listed" "$tmp/out"
check "unlisted symlink to a file reported" grep -q "^refused   zero (a symbolic link, not listed" "$tmp/out"
check "unlisted symlink to a directory reported" grep -q "^refused   etc (a symbolic link, not listed" "$tmp/out"
check "the summary counts all three" grep -q "3 refused" "$tmp/err"

# husai report verifies checksums first: the same run directories end, refused
for d in fifo symlink dotdot; do
	timeout $T "$bin" report --out "$tmp/rep_$d" "$tmp/$d" >/dev/null 2>"$tmp/err"; st=$?
	check "report on $d: ends non-zero, no hang (got $st)" test "$st" -ne 0 -a "$st" -ne 124
done

# a config that is a device, a FIFO, or larger than the 1 MiB limit: refused before reading
timeout $T "$bin" run /dev/zero --out "$tmp/r0" >/dev/null 2>"$tmp/err"; st=$?
check "run /dev/zero: exit 1, at once (got $st)" test "$st" -eq 1
check "run /dev/zero: named, a character device" grep -q "/dev/zero: a character device; expected a regular file" "$tmp/err"
mkfifo "$tmp/cfg.fifo"
timeout $T "$bin" run "$tmp/cfg.fifo" --out "$tmp/r1" >/dev/null 2>"$tmp/err"; st=$?
check "run on a FIFO: exit 1, no hang (got $st)" test "$st" -eq 1
check "run on a FIFO: named" grep -q "cfg.fifo: a FIFO; expected a regular file" "$tmp/err"
head -c $((2 * 1024 * 1024)) /dev/zero | tr '\0' '#' >"$tmp/big.yaml"
timeout $T "$bin" run "$tmp/big.yaml" --out "$tmp/r2" >/dev/null 2>"$tmp/err"; st=$?
check "run on a 2 MiB config: exit 1 (got $st)" test "$st" -eq 1
check "run on a 2 MiB config: the limit is named" grep -q "big.yaml: 2097152 bytes; expected at most 1048576 bytes" "$tmp/err"

# an HDF5 path that is a FIFO or a device: refused, never opened by libhdf5
mkfifo "$tmp/acts.h5"
timeout $T "$bin" inspect "$tmp/acts.h5" >/dev/null 2>"$tmp/err"; st=$?
check "inspect on a FIFO: exit 1, no hang (got $st)" test "$st" -eq 1
check "inspect on a FIFO: named" grep -q "acts.h5: a FIFO; expected a regular file" "$tmp/err"
timeout $T "$bin" inspect /dev/zero >/dev/null 2>"$tmp/err"; st=$?
check "inspect /dev/zero: exit 1 (got $st)" test "$st" -eq 1


# a run whose SAE checkpoint is another condition's (k 8 in the k 4 folder) and whose done
# record was edited to match: the aggregation compares each checkpoint's d_sae and k with its
# condition and refuses, naming the file, instead of writing a record about other SAEs
cfgg="$src/tests/fixtures/golden/config.yaml"
gset=(--set 'experiment.seeds=[1,2,3]' --set 'experiment.d_sae_values=[]')
r=$tmp/swapped
if timeout 120 "$bin" run --out "$r" "${gset[@]}" "$cfgg" >"$tmp/out" 2>&1; then
	f=sae/k_sweep_dsae64_k4/sae_seed1.h5
	old=$(sha256sum "$r/$f" | cut -d' ' -f1)
	cp "$r/sae/k_sweep_dsae64_k8/sae_seed1.h5" "$r/$f"
	new=$(sha256sum "$r/$f" | cut -d' ' -f1)
	sed -i "s/$old/$new/" "$r/jobs/sae_k_sweep_dsae64_k4_seed1.done.json"
	before=$(sha256sum "$r/results.json")
	timeout 120 "$bin" run --aggregate-only --out "$r" "${gset[@]}" "$cfgg" >"$tmp/out" 2>"$tmp/err"; st=$?
	check "a checkpoint of another condition: exit 1 (got $st)" test "$st" -eq 1
	check "... named with both k" grep -q "$f:k: the checkpoint has k 8, its condition in the config 4" "$tmp/err"
	check "... and results.json is not rewritten" test "$(sha256sum "$r/results.json")" = "$before"
else
	check "the golden config runs" false
fi
finish hostile_run
