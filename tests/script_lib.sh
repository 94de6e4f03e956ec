# script_lib.sh — sourced by the tests/test_*.sh scripts (not a test itself): the environment
# ctest gives them (HUSAI_BIN, HUSAI_SOURCE_DIR, TEST_TMP), a fresh scratch directory $tmp,
# check() and finish().
#   . "${HUSAI_SOURCE_DIR:?}/tests/script_lib.sh" NAME
set -u
bin=${HUSAI_BIN:?}
src=${HUSAI_SOURCE_DIR:?}
tmp=${TEST_TMP:-/tmp/husai_test_${1:?}_$$}
rm -rf "$tmp"; mkdir -p "$tmp"
fail=0; passed=0
# check DESCRIPTION COMMAND...: count the command's success, name it when it fails
check() { local what=$1; shift; if "$@"; then passed=$((passed + 1)); else echo "FAIL: $what"; fail=$((fail + 1)); fi; }
# finish: print the counts, remove the scratch directory when everything passed (else keep it
# for a look), exit non-zero on any failure
finish() {
	echo "${1:-}${1:+: }$passed passed, $fail failed"
	[ "$fail" -eq 0 ] && rm -rf "$tmp"
	[ "$fail" -eq 0 ]
	exit $?
}
