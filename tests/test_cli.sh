#!/usr/bin/env bash
# test_cli.sh — the verb table as a user meets it: every verb answers --help on stdout with
# status 0 and a "usage: husai <verb>" line; `husai help <verb>` says the same; misuse and
# unknown verbs exit 2; `husai inspect` on random bytes, an empty file and a missing file
# exits 1 naming the file and never crashes.
set -u
bin=${HUSAI_BIN:?}
tmp=${TEST_TMP:-/tmp/husai_test_cli_$$}
mkdir -p "$tmp"
fail=0; passed=0
check() { # description, command...
	local what=$1; shift
	if "$@"; then passed=$((passed + 1)); else echo "FAIL: $what"; fail=$((fail + 1)); fi
}

verbs=$("$bin" --help | awk '/^verbs:/{on=1; next} on && NF {print $1}')
check "verb table is not empty" test -n "$verbs"
for v in $verbs; do
	out=$("$bin" "$v" --help); st=$?
	check "$v --help exits 0" test "$st" -eq 0
	check "$v --help prints its usage" grep -q "^usage: husai $v" <<<"$out"
	out2=$("$bin" help "$v"); st=$?
	check "help $v exits 0" test "$st" -eq 0
	check "help $v matches $v --help" test "$out" = "$out2"
	"$bin" "$v" --no-such-option >/dev/null 2>&1; st=$?
	check "$v with a bad option exits 2 (got $st)" test "$st" -eq 2
done
"$bin" no-such-verb >/dev/null 2>"$tmp/err"; st=$?
check "unknown verb exits 2" test "$st" -eq 2
check "unknown verb is named" grep -q "'no-such-verb' is not a husai verb" "$tmp/err"
"$bin" >/dev/null 2>&1; st=$?
check "no verb exits 2" test "$st" -eq 2
check "version names HDF5" sh -c "'$bin' version | grep -q '^HDF5 '"

head -c 4096 /dev/urandom >"$tmp/random.h5"
: >"$tmp/empty.h5"
for f in "$tmp/random.h5" "$tmp/empty.h5" "$tmp/missing.h5"; do
	"$bin" inspect "$f" >/dev/null 2>"$tmp/err"; st=$?
	check "inspect $(basename "$f") exits 1 (got $st)" test "$st" -eq 1
	check "inspect $(basename "$f") names the file" grep -q "husai: $f" "$tmp/err"
done
"$bin" audit "$tmp" >/dev/null 2>"$tmp/err"; st=$?
check "audit of a directory without a manifest exits 1" test "$st" -eq 1
check "audit names manifest.json" grep -q "manifest.json" "$tmp/err"

echo "$passed passed, $fail failed"
rm -rf "$tmp"
test "$fail" -eq 0
