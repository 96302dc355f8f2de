#!/usr/bin/env bash
# The transfer study (issue 19, RQ4; docs/transfer.md): a W1 checkpoint pre-trained on
# Fashion-MNIST, evaluated on scikit-learn's handwritten digits (scripts/export_digits.py)
# at two label budgets: 10 labelled images per class (100) and the whole training split
# (1,257). For each budget, on exactly the same labelled images and the same 540 test images:
#   - `simsiamc eval`: kNN and linear probe of the checkpoint's backbone, raw pixels and a
#     random-init backbone;
#   - `simsiamc finetune --label-fraction 1`: the backbone fine-tuned, the same network from
#     scratch (same steps, lr, seed) and the linear probe on the labelled images.
# Then scripts/transfer_table.py prints the markdown table (OUT/table.md).
#
#   scripts/transfer-study.sh CHECKPOINT OUT
#
# Environment: SIMSIAMC (default .build/release/simsiamc), PYTHON (default python3; needs
# numpy, pillow, scikit-learn for the export only), FT_FLAGS_SMALL / FT_FLAGS_ALL (the
# fine-tuning recipe of each budget, defaults below), THREADS (OpenMP threads, default all).
set -euo pipefail
checkpoint=${1:?usage: scripts/transfer-study.sh CHECKPOINT OUT}
out=${2:?usage: scripts/transfer-study.sh CHECKPOINT OUT}
simsiamc=${SIMSIAMC:-.build/release/simsiamc}
python=${PYTHON:-python3}
here=$(cd "$(dirname "$0")" && pwd)
# 100 images at batch 20: 5 steps per epoch, 60 epochs = 300 steps. 1,257 at batch 64: 19 steps, 30 epochs = 570.
ft_small=${FT_FLAGS_SMALL:---epochs 60 --batch 20}
ft_all=${FT_FLAGS_ALL:---epochs 30 --batch 64}
threads=${THREADS:+--threads $THREADS}

[[ -f $checkpoint ]] || { echo "no checkpoint at $checkpoint: give a checkpoint.safetensors of a W1 run" >&2; exit 2; }
mkdir -p "$out"
[[ -f $out/digits/digits.npz ]] || "$python" "$here/export_digits.py" "$out/digits"
read -r mean std <"$out/digits/normalization.txt"
normalise=(--mean "$mean" --std "$std")
{ echo "checkpoint: $checkpoint"; echo "commit: $(git -C "$here/.." rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "started: $(date -u +%FT%TZ)"; grep -m1 'model name' /proc/cpuinfo || true; uptime; } >"$out/run-info.txt"

for budget in 10pc all; do
  data=$out/digits/digits-$budget.npz
  [[ $budget == all ]] && data=$out/digits/digits.npz
  flags=$ft_small; [[ $budget == all ]] && flags=$ft_all
  echo "== $budget: eval ($data)"
  # shellcheck disable=SC2086
  "$simsiamc" eval --checkpoint "$checkpoint" --data "$data" "${normalise[@]}" $threads --json >"$out/eval-$budget.json"
  echo "== $budget: finetune $flags"
  # shellcheck disable=SC2086
  "$simsiamc" finetune --checkpoint "$checkpoint" --data "$data" "${normalise[@]}" --label-fraction 1 $flags $threads \
      --run-dir "$out/finetune-$budget" >"$out/finetune-$budget.log" 2>&1
  tail -4 "$out/finetune-$budget.log"
done
echo "finished: $(date -u +%FT%TZ)" >>"$out/run-info.txt"; uptime >>"$out/run-info.txt"
"$python" "$here/transfer_table.py" "$out" | tee "$out/table.md"
