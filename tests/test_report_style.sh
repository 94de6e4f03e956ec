#!/usr/bin/env bash
# test_report_style.sh — `husai report --style/--font-size/--dpi/--theme` (docs/figures.md
# "Styles"): the page widths of each style in the SVG, the PNG resolution, and bad values
# refused with exit 2 and a message naming the option.
set -u
B="$HUSAI_BIN"
F="$HUSAI_SOURCE_DIR/tests/fixtures/report/runs"
T="$TEST_TMP"
rm -rf "$T" && mkdir -p "$T"
fail() { echo "FAIL: $*" >&2; exit 1; }

width() { grep -o 'width="[0-9.]*pt"' "$1" | head -1; }
"$B" report --formats svg --out "$T/screen" "$F/core" 2>/dev/null || fail "default style"
[ "$(width "$T/screen/core_ablations/figures/F2_k_sweep.svg")" = 'width="252pt"' ] ||
	fail "screen: F2 is not 252 pt wide"
"$B" report --style paper --formats svg --out "$T/paper" "$F/core" 2>/dev/null || fail "--style paper"
[ "$(width "$T/paper/core_ablations/figures/F2_k_sweep.svg")" = 'width="234pt"' ] ||
	fail "paper: F2 is not one column (234 pt) wide"
[ "$(width "$T/paper/core_ablations/figures/F8_training_curves.svg")" = 'width="486pt"' ] ||
	fail "paper: F8 is not two columns (486 pt) wide"
"$B" report --style paper-2col --formats svg --out "$T/p2" "$F/core" 2>/dev/null || fail "--style paper-2col"
[ "$(width "$T/p2/core_ablations/figures/F2_k_sweep.svg")" = 'width="486pt"' ] ||
	fail "paper-2col: F2 is not 486 pt wide"
"$B" report --style paper-1col --formats svg --out "$T/p1" "$F/core" 2>/dev/null || fail "--style paper-1col"
[ "$(width "$T/p1/core_ablations/figures/F8_training_curves.svg")" = 'width="234pt"' ] ||
	fail "paper-1col: F8 is not 234 pt wide"
# 252 pt at 150 dpi: 525 pixels; the font size changes the drawing
"$B" report --dpi 150 --font-size 9 --theme dark --formats png,svg --out "$T/d" "$F/core" 2>/dev/null ||
	fail "--dpi --font-size --theme"
python3 - "$T/d/core_ablations/figures/F2_k_sweep.png" <<'PY' || fail "--dpi 150: PNG not 525 pixels wide"
import struct, sys
d = open(sys.argv[1], 'rb').read()
sys.exit(0 if struct.unpack('>I', d[16:20])[0] == 525 else 1)
PY
grep -q 'font-size\|glyph' "$T/d/core_ablations/figures/F2_k_sweep.svg" || fail "no text in the SVG"
cmp -s "$T/d/core_ablations/figures/F2_k_sweep.svg" "$T/screen/core_ablations/figures/F2_k_sweep.svg" &&
	fail "--font-size 9 --theme dark drew the same SVG"
for bad in "--style poster" "--dpi 10" "--font-size x" "--theme blue"; do
	# shellcheck disable=SC2086
	"$B" report $bad --out "$T/bad" "$F/core" 2>"$T/bad.err"
	[ $? -eq 2 ] || fail "$bad: expected exit 2"
	grep -q -- "${bad%% *}" "$T/bad.err" || fail "$bad: the message does not name the option"
done
"$B" report --help | grep -q -- '--style' || fail "--help does not explain --style"
echo ok
