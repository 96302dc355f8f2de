#!/usr/bin/env python3
"""Markdown table of a recipe study (scripts/recipe-study.sh): one row per recipe
with its flags, epochs, training wall time, kNN per epoch and the final
evaluation against the raw-pixel baselines.

    python3 scripts/recipe_table.py runs/recipe-study
"""
import json
import pathlib
import sys


def main(root: pathlib.Path) -> None:
    rows = []
    pixels = None
    for run in sorted(p for p in root.iterdir() if (p / "evaluation.json").exists()):
        metrics = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines() if line]
        evaluation = json.loads((run / "evaluation.json").read_text())
        flags = (run / "recipe.txt").read_text().strip() if (run / "recipe.txt").exists() else "?"
        pixels = evaluation["pixels"]
        train_seconds = sum(m["epochSeconds"] - m["monitorSeconds"] for m in metrics)
        rows.append((run.name, flags, len(metrics), train_seconds, [m["knnTop1"] for m in metrics],
                     evaluation["learned"]["knnTop1"], evaluation["learned"]["linearTop1"],
                     metrics[-1]["collapseStd"], sum(m["samplesPerSecond"] for m in metrics) / len(metrics)))
    if not rows:
        sys.exit(f"no finished runs (evaluation.json) under {root}")
    print("| recipe | flags | epochs | training time | kNN per epoch (%) | final kNN | linear probe | collapse std | samples/s |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, flags, epochs, seconds, knn, final_knn, linear, collapse, rate in sorted(rows, key=lambda r: -r[6]):
        per_epoch = " / ".join(f"{100 * k:.2f}" for k in knn)
        print(f"| {name} | `{flags}` | {epochs} | {seconds / 60:.0f} min | {per_epoch} | {100 * final_knn:.2f}% "
              f"| {100 * linear:.2f}% | {collapse:.4f} | {rate:.0f} |")
    print(f"\nRaw pixels: kNN {100 * pixels['knnTop1']:.2f}%, linear probe {100 * pixels['linearTop1']:.2f}%.")


if __name__ == "__main__":
    main(pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "runs/recipe-study"))
