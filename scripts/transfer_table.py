#!/usr/bin/env python3
"""Prints the markdown table of the transfer study from the files scripts/transfer-study.sh writes.

Reads OUT/eval-{10pc,all}.json (`simsiamc eval --json`) and OUT/finetune-{10pc,all}/finetune.json,
one row per label budget: kNN and linear probe of raw pixels, the random-init backbone and the
pre-trained backbone, then fine-tuned and from-scratch test top-1 (the linear probe of
`finetune` is on the same images as eval's, so it is not repeated).

Usage: python3 scripts/transfer_table.py OUT
"""

import json
import pathlib
import sys

BUDGETS = [("10pc", "10 per class"), ("all", "all")]


def percent(value):
    return "n/a" if value is None else f"{100 * value:.2f}%"


def main() -> None:
    out = pathlib.Path(sys.argv[1])
    print("| labels | pixels kNN | pixels linear | random kNN | random linear | pre-trained kNN | pre-trained linear "
          "| fine-tuned | from scratch | fine-tuning recipe |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for key, name in BUDGETS:
        evaluation = json.loads((out / f"eval-{key}.json").read_text())
        finetune = json.loads((out / f"finetune-{key}" / "finetune.json").read_text())
        recipe = finetune["recipe"]
        cells = [f"{name}: {finetune['labelledImages']}",
                 percent(evaluation["pixels"]["knnTop1"]), percent(evaluation["pixels"]["linearTop1"]),
                 percent(evaluation["randomBackbone"]["knnTop1"]), percent(evaluation["randomBackbone"]["linearTop1"]),
                 percent(evaluation["learned"]["knnTop1"]), percent(evaluation["learned"]["linearTop1"]),
                 f"**{percent(finetune['finetunedTop1'])}**", percent(finetune.get("scratchTop1")),
                 f"{recipe['epochs']} epochs, batch {recipe['batch']}, lr {recipe['lr']:g}"
                 + ("" if recipe["augment"] else ", no augmentation")]
        print("| " + " | ".join(cells) + " |")
    tests = json.loads((out / "finetune-all" / "finetune.json").read_text())["testImages"]
    print(f"\nTest top-1 on the {tests} held-out digits; one seed.")


if __name__ == "__main__":
    main()
