#!/usr/bin/env bash
# test_import_activations.sh — `husai import-activations` (formats/import/import_activations.c): the
# same matrix as .npy (float32 and float64), .safetensors (a named tensor), an HDF5 dataset and
# upstream's torch .pt cache gives the same /activations; float16 converts; the source's sha256,
# dtype and metadata (flags, JSON sidecar, upstream's .meta.pt) are recorded; the set reads
# back (husai inspect, version 2, no task columns); bad sources are refused by name with
# nothing written; a file larger than the address-space limit converts (streaming) while a
# whole-file reader of the same data fails under that limit; --token-ids stores one id per row
# (int32 or int64 .npy) as /token_ids and refuses a wrong length, dtype or shape and negative
# or too large ids, naming the file, with nothing written.
. "${HUSAI_SOURCE_DIR:?}/tests/script_lib.sh" import_activations
command -v python3 >/dev/null || { echo "SKIP: python3 needed to write the sources"; exit 77; }
python3 "$src/tests/fixtures/gen_activation_sources.py" "$tmp" 300 16
cd "$tmp" || exit 1
imp() { "$bin" import-activations "$@" >>"$tmp/log" 2>&1; }
acts_sum() { "$bin" inspect --checksums "$1" | awk '$1 == "/activations" {print $NF}'; }

check "npy float32 imports" imp --model gpt2 --hook blocks.6.hook_resid_post --layer 6 --out a.h5 x.npy
check "npy float64 imports" imp --out a64.h5 x64.npy
check "npy float16 imports" imp --out a16.h5 x16.npy
check "safetensors tensor imports" imp --out st.h5 x.safetensors:acts
check "safetensors --dataset imports" imp --out st2.h5 --dataset acts x.safetensors
check "HDF5 dataset imports" imp --out h.h5 --chunk-rows 7 a.h5:/activations
check "upstream .pt cache imports" imp --out pt.h5 layer1_answer.pt
want=$(acts_sum a.h5)
check "a digest" test -n "$want"
for f in a64 st st2 h pt; do
	check "$f.h5 holds the same matrix as the npy" test "$(acts_sum $f.h5)" = "$want"
done
check "float16 gives another matrix" test "$(acts_sum a16.h5)" != "$want"
"$bin" inspect a.h5 >a.txt 2>&1
check "inspect validates the imported set" grep -q "format version 2" a.txt
sha=$(sha256sum x.npy | cut -d' ' -f1)
check "source sha256 recorded" grep -q "@source_sha256 = \"$sha\"" a.txt
check "model recorded" grep -q '@model = "gpt2"' a.txt
check "hook recorded" grep -q '@hook = "blocks.6.hook_resid_post"' a.txt
check "layer recorded" grep -q '@layer = 6' a.txt
check "no task columns" bash -c "! grep -q '^  /a ' a.txt"
check "dims attribute on /activations" grep -q '@dims = "row,d_model"' a.txt
"$bin" inspect a16.h5 >a16.txt 2>&1
check "float16 source dtype recorded" grep -q '@source_dtype = "float16"' a16.txt
"$bin" inspect pt.h5 >pt.txt 2>&1
check "upstream .meta.pt layer" grep -q '@layer = 1' pt.txt
check "upstream .meta.pt position" grep -q '@position = "answer"' pt.txt
printf '{"model": "pythia-70m", "hook": "blocks.3.hook_mlp_out", "layer": 3}\n' >meta.json
check "JSON sidecar" imp --meta meta.json --layer 4 --out j.h5 x.npy
"$bin" inspect j.h5 >j.txt 2>&1
check "sidecar model" grep -q '@model = "pythia-70m"' j.txt
check "a flag wins over the sidecar" grep -q '@layer = 4' j.txt
printf '{"modle": "x"}\n' >badmeta.json
check "unknown sidecar key refused" bash -c "! '$bin' import-activations --meta badmeta.json --out bm.h5 x.npy 2>bm.err"
check "... naming the key" grep -q modle bm.err

# refusals name the file and what was expected; nothing is written
check "Fortran order refused" bash -c "! '$bin' import-activations --out f.h5 xfortran.npy 2>f.err"
check "... saying so" grep -q "fortran_order" f.err
check "... nothing written" test ! -e f.h5
check "several tensors need a name" bash -c "! '$bin' import-activations --out s.h5 x.safetensors 2>s.err"
check "... saying so" grep -q "holds 2 tensors" s.err
check "missing HDF5 dataset refused" bash -c "! '$bin' import-activations --out m.h5 a.h5:/nope 2>m.err"
check "... naming it" grep -q "/nope" m.err
python3 - <<'PY'
import struct
b = bytearray(open("x.npy", "rb").read())
struct.pack_into("<f", b, len(b) - 4 * 16 * 5 + 8, float("nan"))   # row 295, column 2
open("nan.npy", "wb").write(b)
open("short.npy", "wb").write(b[:-4])
PY
check "NaN refused" bash -c "! '$bin' import-activations --out n.h5 nan.npy 2>n.err"
check "... naming the row" grep -q "row 295, column 2" n.err
check "... nothing written" test ! -e n.h5
check "truncated npy refused" bash -c "! '$bin' import-activations --out t.h5 short.npy 2>t.err"
check "... naming the size" grep -q "needs" t.err
check "existing output kept without --force" bash -c "! '$bin' import-activations --out a.h5 x64.npy 2>/dev/null"
check "train-sae reads the imported set" bash -c "printf 'sae:\n  d_sae: 32\n  k: 4\n  epochs: 2\n  batch_size: 64\n' >sae.yaml && '$bin' train-sae --config sae.yaml --activations a.h5 --out sae --seeds 1 >>log 2>&1"

# --token-ids: a 1-D integer .npy, one non-negative id per row, stored as /token_ids int32
python3 - <<'PY'
import struct
def save(name, descr, shape, values):  # a NumPy .npy (format 1.0) without numpy
    h = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, shape)
    h += " " * (64 - (10 + len(h) + 1) % 64) + "\n"
    code = {"<i8": "q", "<i4": "i", "<f4": "f"}[descr]
    with open(name, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h.encode())
        f.write(struct.pack("<%d%s" % (len(values), code), *values))
ids = [(i * 7919) % 50257 for i in range(300)]
save("ids64.npy", "<i8", "(300,)", ids)
save("ids32.npy", "<i4", "(300,)", ids)
save("ids_short.npy", "<i8", "(299,)", ids[:299])
save("ids_float.npy", "<f4", "(300,)", ids)
save("ids_2d.npy", "<i8", "(300, 1)", ids)
save("ids_neg.npy", "<i8", "(300,)", ids[:17] + [-3] + ids[18:])
save("ids_big.npy", "<i8", "(300,)", ids[:5] + [2**31] + ids[6:])
open("ids.sha256", "w").write(__import__("hashlib").sha256(struct.pack("<300i", *ids)).hexdigest())
PY
check "--token-ids int64 imports" imp --token-ids ids64.npy --out tok.h5 x.npy
check "--token-ids int32 imports" imp --token-ids ids32.npy --out tok32.h5 x.npy
"$bin" inspect --checksums tok.h5 >tok.txt 2>&1
check "inspect shows /token_ids int32 [300]" grep -q '^  /token_ids  *int32  *\[300\]' tok.txt
want_ids=$(cat ids.sha256)
check "/token_ids holds the ids" grep -q "^  /token_ids .*sha256 $want_ids" tok.txt
check "int32 and int64 sources give the same /token_ids" \
	test "$(grep '^  /token_ids' tok.txt)" = "$("$bin" inspect --checksums tok32.h5 | grep '^  /token_ids')"
check "/token_ids described" grep -q '@description = "token id of each row' tok.txt
check "the matrix is unchanged by --token-ids" test "$(acts_sum tok.h5)" = "$want"
check "train-sae reads a set with token ids" bash -c "'$bin' train-sae --config sae.yaml --activations tok.h5 --out saetok --seeds 1 >>log 2>&1"
refuse() { # refuse NAME IDS.npy PATTERN: refused, status 1, naming the file and PATTERN, nothing written
	"$bin" import-activations --token-ids "$2" --out "r_$1.h5" x.npy >/dev/null 2>"r_$1.err"
	local st=$?
	check "token ids $1 refused (status $st)" test "$st" -eq 1
	check "... naming the file" grep -q "$2" "r_$1.err"
	check "... saying what was expected" grep -q "$3" "r_$1.err"
	check "... nothing written" bash -c "! ls r_$1.h5* 2>/dev/null"
}
refuse short ids_short.npy "a 1-D array of 300; found a 1-D array of 299"
refuse float ids_float.npy "<i4 or <i8"
refuse 2d ids_2d.npy "a 1-D array of 300"
refuse negative ids_neg.npy "token id -3 of row 17"
refuse too_large ids_big.npy "token id 2147483648 of row 5"
refuse missing nothere.npy "cannot open"

# streaming: a 128 MiB matrix (32 768 x 1 024 float32, zeros but its last value 1.5) converts
# under a 100 MB address-space limit; reading it whole (husai inspect) does not fit there
if ! ldd "$bin" 2>/dev/null | grep -q -e libasan -e libtsan; then
	python3 - <<'PY'
import struct
n, d = 32768, 1024
h = "{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }" % (n, d)
h += " " * (64 - (10 + len(h) + 1) % 64) + "\n"
with open("big.npy", "wb") as f:
    f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h.encode())
    f.seek(10 + len(h) + n * d * 4 - 4)
    f.write(struct.pack("<f", 1.5))
PY
	(ulimit -v 100000; exec "$bin" import-activations --out big.h5 big.npy) >big.log 2>&1
	st=$?
	check "a 128 MiB npy converts under ulimit -v 100 MB (status $st)" test "$st" -eq 0
	[ "$st" -eq 0 ] || cat big.log
	(ulimit -v 100000; exec "$bin" inspect big.h5) >big2.log 2>&1
	check "reading it whole does not fit under that limit" test $? -ne 0
	"$bin" inspect --checksums big.h5 >big.txt 2>&1
	max=$(python3 -c 'import hashlib,struct; print(hashlib.sha256(struct.pack("<d", 1.5)).hexdigest())')
	check "its last value arrived (/stats/max = 1.5)" grep -q "/stats/max .*$max" big.txt
	check "32 768 rows" grep -q "/activations .*\[32768, 1024\]" big.txt
	rm -f big.npy big.h5
fi
finish import_activations
