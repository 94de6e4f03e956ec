#!/usr/bin/env bash
# install-deps.sh — make sure the Debian 12 packages husai builds and runs with are present.
# As root it installs what is missing with apt-get; otherwise it prints the exact command.
#   scripts/install-deps.sh            build + test dependencies
#   scripts/install-deps.sh --bench    also python3-torch (the benchmark peer, the import fixtures) and python3-h5py (the documented loader)
#   scripts/install-deps.sh --fixtures also python3-matplotlib, for the figure comparison
#                                      (tests/fixtures/plot/mpl_compare.py, docs/figures.md)
set -euo pipefail
pkgs=(gcc make cmake pkg-config git ca-certificates
      libhdf5-dev libgsl-dev libcairo2-dev libpango1.0-dev fonts-dejavu-core
      libyaml-dev libcmocka-dev valgrind cppcheck python3 libopenblas-dev libjansson-dev libssl-dev libzip-dev
      libopenmpi-dev openmpi-bin)
for a in "$@"; do
	case "$a" in
	--bench) pkgs+=(python3-torch python3-numpy python3-h5py) ;;
	--fixtures) pkgs+=(python3-matplotlib python3-numpy) ;;
	*) echo "husai: install-deps.sh: unknown option '$a' (expected --bench or --fixtures)" >&2; exit 2 ;;
	esac
done
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "husai: missing Debian packages; install them with:" >&2
	echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
	exit 1
fi
echo "husai: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
