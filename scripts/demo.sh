#!/bin/sh
# The main job: installs missing system packages and data, compiles W1
# (fmnist-resnet-mini), trains it on Fashion-MNIST with the default recipe,
# and prints kNN and linear-probe accuracy next to the raw-pixel baselines.
# Three epochs take about 15 minutes on the 2-core reference machine
# (epochs of ~270 s and an 84 s evaluation; docs/status.md, "Training").
set -eu
cd "$(dirname "$0")/.."
scripts/install-system-packages.sh --with-data
swift run -c release simsiamc train --epochs 3 "$@"
