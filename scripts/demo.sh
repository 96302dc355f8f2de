#!/bin/sh
# The main job: installs missing system packages and data, compiles W1
# (fmnist-resnet-mini) and trains it on Fashion-MNIST, printing the loss.
set -eu
cd "$(dirname "$0")/.."
scripts/install-system-packages.sh --with-data
swift run -c release simsiamc demo "$@"
