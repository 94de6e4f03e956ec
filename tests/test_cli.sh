#!/usr/bin/env bash
# test_cli.sh — the verb table as a user meets it: every verb answers --help on stdout with
# status 0 and a "usage: husai <verb>" line; `husai help <verb>` says the same; misuse and
# unknown verbs exit 2; misuse of audit's, functional's, export's, inspect's and plant's options
# (bad numbers included) exits 2 naming the option or value; `husai inspect` on random bytes, an empty file and a missing file
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
# misuse of the verbs' own options (formats/cli.c): status 2, the option or value named,
# nothing on stdout, and on stderr the usage (misuse) or the one line naming the value (a bad
# value: every number is checked whole and in range)
misuse() { # verb, expected text, arguments...
	local v=$1 want=$2; shift 2
	"$bin" "$v" "$@" >"$tmp/out" 2>"$tmp/err"; local st=$?
	check "$v $*: exits 2 (got $st)" test "$st" -eq 2
	check "$v $*: says \"$want\"" grep -qF -- "$want" "$tmp/err"
	case $want in
	"bad value"*) check "$v $*: one line on stderr" test "$(wc -l <"$tmp/err")" -eq 1 ;;
	*) check "$v $*: usage on stderr" grep -q "^usage: husai $v" "$tmp/err" ;;
	esac
	check "$v $*: nothing on stdout" test ! -s "$tmp/out"
}
misuse audit "bad value 'x' for option '--ulp'" --recompute --ulp x "$tmp"
misuse audit "bad value '-1' for option '--ulp'" --recompute --ulp -1 "$tmp"
misuse audit "bad value '4611686018427387905' for option '--ulp'" --recompute --ulp 4611686018427387905 "$tmp"
misuse audit "--ulp applies to --recompute only" --ulp 3 "$tmp"
misuse audit "option '--ulp' needs a value" --recompute --ulp
misuse audit "expected at least 1 argument" --quiet
fn=(--transformer t.h5 --activations a.h5 --matching m.h5 --out "$tmp/fn")
misuse functional "bad value '99999999999999999999' for option '--seed'" "${fn[@]}" --group g=a,b --seed 99999999999999999999
misuse functional "bad value '-1' for option '--seed'" "${fn[@]}" --group g=a,b --seed -1
misuse functional "bad value '1x' for option '--seed'" "${fn[@]}" --group g=a,b --seed 1x
misuse functional "--group expects <name>=<sae.h5>,<sae.h5>" "${fn[@]}" --group g=a.h5
misuse functional "are required" --transformer t.h5
misuse functional "unexpected argument 'extra'" "${fn[@]}" --group g=a,b extra
misuse export "bad value 'foo' for option '--to'" --to foo --out "$tmp/x" a.h5
misuse export "bad value 'a/b' for option '--hookpoint'" --to sparsify --hookpoint a/b --out "$tmp/x" a.h5
misuse export "--to and --out are required" --to saelens a.h5
misuse export "expected at least 1 argument" --to saelens --out "$tmp/x"
misuse inspect "option '--checksums' takes no value" --checksums=1 x.h5
misuse inspect "expected at least 1 argument" --checksums
misuse plant "--out is required"
misuse plant "unexpected argument 'b.yaml'" --out "$tmp/p.h5" a.yaml b.yaml
misuse plant "option '--out' needs a value" --out
# plant's numbers are config values (--set): a bad one is a named error, status 1, no file
"$bin" plant --out "$tmp/p.h5" --set plant.rows=12x >/dev/null 2>"$tmp/err"; st=$?
check "plant --set plant.rows=12x exits 1 (got $st)" test "$st" -eq 1
check "plant --set plant.rows=12x names the key" grep -q "plant.rows" "$tmp/err"
check "plant --set plant.rows=12x writes nothing" test ! -e "$tmp/p.h5"
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
