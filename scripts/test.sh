#!/bin/sh
# The test command: installs missing system packages, builds, runs every test.
set -eu
cd "$(dirname "$0")/.."
scripts/install-system-packages.sh
swift build --build-tests
swift test --disable-xctest "$@"
