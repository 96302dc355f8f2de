#!/usr/bin/env python3
"""Largest difference between two safetensors checkpoints, tensor by tensor.

    python3 scripts/compare_checkpoints.py A.safetensors B.safetensors [--tolerance 1e-5]

Each tensor's difference is max |a - b| divided by max |b| (at least 0.01, so
that BN means near zero compare absolutely): the measure DataParallelTests and
docs/mpi.md use. Prints the five largest and exits 1 when the largest exceeds
--tolerance. Standard library only.
"""
import argparse
import json
import struct
import sys

FORMATS = {"F32": "f", "F64": "d", "I64": "q", "BF16": None}


def read(path):
    with open(path, "rb") as file:
        blob = file.read()
    (length,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + length])
    data = blob[8 + length:]
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        code = FORMATS.get(entry["dtype"])
        if code is None:
            sys.exit(f"{path}: tensor {name} has dtype {entry['dtype']}, which this script does not read")
        start, end = entry["data_offsets"]
        count = (end - start) // struct.calcsize(code)
        tensors[name] = struct.unpack(f"<{count}{code}", data[start:end])
    return tensors


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("a")
    parser.add_argument("b", help="the reference: differences are relative to its tensors")
    parser.add_argument("--tolerance", type=float, default=1e-5)
    arguments = parser.parse_args()
    a, b = read(arguments.a), read(arguments.b)
    if set(a) != set(b):
        sys.exit(f"the checkpoints hold different tensors: only in A {sorted(set(a) - set(b))}, only in B {sorted(set(b) - set(a))}")
    differences = []
    for name, reference in b.items():
        if len(a[name]) != len(reference):
            sys.exit(f"{name}: {len(a[name])} elements in A, {len(reference)} in B")
        if not reference:
            continue
        scale = max(max(abs(v) for v in reference), 0.01)
        differences.append((max(abs(x - y) for x, y in zip(a[name], reference)) / scale, name))
    differences.sort(reverse=True)
    print(f"{len(differences)} tensors; largest relative differences:")
    for difference, name in differences[:5]:
        print(f"  {difference:.3e}  {name}")
    worst = differences[0][0] if differences else 0.0
    verdict = "within" if worst <= arguments.tolerance else "ABOVE"
    print(f"largest {worst:.3e}: {verdict} the tolerance {arguments.tolerance:g}")
    return 0 if worst <= arguments.tolerance else 1


if __name__ == "__main__":
    sys.exit(main())
