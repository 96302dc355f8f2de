#!/usr/bin/env bash
# The W1 recipe study (issue 3): every recipe trains for the same number of
# epochs on the full Fashion-MNIST training set (same samples seen, same seed),
# then `simsiamc train` evaluates kNN and the linear probe. Results land in
# OUT/<recipe>/{metrics.jsonl,evaluation.json,train.log}; scripts/recipe_table.py
# turns them into the markdown table of docs/recipe-study.md.
#
#   scripts/recipe-study.sh [EPOCHS] [OUT] [RECIPE ...]
set -euo pipefail
epochs=${1:-3}
out=${2:-runs/recipe-study}
shift $(( $# > 2 ? 2 : $# )) || true
simsiamc=${SIMSIAMC:-.build/release/simsiamc}

declare -A recipes=(
  [spec]="--crop-min-scale 0.2 --jitter 0.4 --lr 0.06 --no-fix-pred-lr"
  [crop50]="--crop-min-scale 0.5 --jitter 0.4 --lr 0.06 --no-fix-pred-lr"
  [lr12-fixpred]="--crop-min-scale 0.2 --jitter 0.4 --lr 0.12 --fix-pred-lr"
  [batch128]="--crop-min-scale 0.2 --jitter 0.4 --lr 0.06 --no-fix-pred-lr --batch 128"
)
order=(spec crop50 lr12-fixpred batch128)
(( $# > 0 )) && order=("$@")

mkdir -p "$out"
for name in "${order[@]}"; do
  flags=${recipes[$name]:?unknown recipe $name (known: ${!recipes[*]})}
  echo "== $name: $flags, $epochs epochs"
  # shellcheck disable=SC2086
  "$simsiamc" train --workload fmnist-resnet-mini --epochs "$epochs" $flags \
      --run-dir "$out/$name" >"$out/$name.log" 2>&1
  echo "$flags" >"$out/$name/recipe.txt"
  tail -5 "$out/$name.log"
done
