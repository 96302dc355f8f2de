#!/bin/sh
# Installs what simsiamc needs beyond the Swift toolchain, if it is missing:
# clang-14 with LLVM's OpenMP runtime (the compiler the generated C is built
# with), libpng, libjpeg-turbo and zlib (the image and .npz readers link
# them), Open MPI (openmpi-bin: mpirun; libopenmpi-dev: mpicc, which builds
# the MPI shim of data-parallel runs, docs/mpi.md) and Debian's Fashion-MNIST
# files (the default training data).
set -eu

wanted="clang libomp-dev libpng-dev libjpeg62-turbo-dev zlib1g-dev openmpi-bin libopenmpi-dev"
[ "${1:-}" = "--with-data" ] && wanted="$wanted dataset-fashion-mnist"
missing=""
for package in $wanted; do
  dpkg -s "$package" >/dev/null 2>&1 || missing="$missing $package"
done
[ -z "$missing" ] && exit 0

echo "installing:$missing" >&2
sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# shellcheck disable=SC2086
$sudo apt-get install -y -qq $missing >/dev/null
