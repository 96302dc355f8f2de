#!/bin/sh
# The test command: installs missing system packages, builds, runs every test.
set -eu
cd "$(dirname "$0")/.."
scripts/install-system-packages.sh
# Results must not depend on plans `simsiamc tune` stored on this machine.
export SIMSIAMC_TUNED_PLANS=off
swift build --build-tests
swift test --disable-xctest "$@"
