#!/bin/sh
# Data-parallel throughput on this machine (docs/mpi.md, issue 17): samples/s of
# 2 ranks x 1 thread (mpirun) against 1 rank x 2 threads, on the same global
# batch, measured side by side in alternating rounds, and rank 0's time in
# collectives per step. Run it on a quiet machine: it prints the load before and
# after, and a figure taken while something else runs is not a figure.
#
#   benchmarks/mpi.sh                       # W1, global batch 256, 3 rounds of 20 steps
#   ROUNDS=1 STEPS=3 WORKLOAD=tiny BATCH=16 benchmarks/mpi.sh   # a quick check of the script
#
# SIMSIAMC names the binary (default: a release build, made if missing).
set -eu
cd "$(dirname "$0")/.."

WORKLOAD=${WORKLOAD:-W1}
BATCH=${BATCH:-256}
STEPS=${STEPS:-20}
WARMUP=${WARMUP:-3}
ROUNDS=${ROUNDS:-3}
if [ -z "${SIMSIAMC:-}" ]; then
  [ -x .build/release/simsiamc ] || swift build -c release --product simsiamc >&2
  SIMSIAMC=.build/release/simsiamc
fi
command -v mpirun >/dev/null || { echo "mpirun not found: apt-get install openmpi-bin libopenmpi-dev" >&2; exit 1; }

# Root, containers and one machine (docs/mpi.md, "Containers and root").
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_btl_vader_single_copy_mechanism=none OMPI_MCA_pml=ob1 OMPI_MCA_btl=self,vader HWLOC_HIDE_ERRORS=2

bench="bench --workload $WORKLOAD --batch $BATCH --steps $STEPS --warmup $WARMUP --json"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) cores"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
# Compile both libraries (batch 256 and 128 per rank) before timing anything.
"$SIMSIAMC" $bench --threads 2 --steps 1 --warmup 0 >/dev/null
mpirun -np 2 --bind-to none "$SIMSIAMC" $bench --threads 1 --steps 1 --warmup 0 >/dev/null

round=1
while [ "$round" -le "$ROUNDS" ]; do
  "$SIMSIAMC" $bench --threads 2 | grep '^{' >"$out/one-$round.json"
  mpirun -np 2 --bind-to none "$SIMSIAMC" $bench --threads 1 | grep '^{' >"$out/two-$round.json"
  round=$((round + 1))
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

python3 - "$out" "$ROUNDS" <<'EOF'
import json, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
one = [json.load(open(f"{out}/one-{r}.json")) for r in range(1, rounds + 1)]
two = [json.load(open(f"{out}/two-{r}.json")) for r in range(1, rounds + 1)]
for r, (a, b) in enumerate(zip(one, two), 1):
    print(f"round {r}: 1 rank x 2 threads {a['samples_per_s']:.1f} samples/s, 2 ranks x 1 thread {b['samples_per_s']:.1f} "
          f"samples/s, ratio {b['samples_per_s'] / a['samples_per_s']:.3f}")
a = statistics.median(x["samples_per_s"] for x in one)
b = statistics.median(x["samples_per_s"] for x in two)
blocking = statistics.median(x["collective_blocking_s_per_step"] for x in two)
gradient = statistics.median(x["collective_gradient_s_per_step"] for x in two)
step = statistics.median(x["median_step_s"] for x in two)
print(f"{one[0]['workload']}, global batch {one[0]['batch']}: median 1x2 {a:.1f} samples/s, 2x1 {b:.1f} samples/s, "
      f"ratio {b / a:.3f} (issue 17 asks >= 0.9)")
print(f"rank 0 per step: {1000 * blocking:.1f} ms in BN and loss sums, {1000 * gradient:.1f} ms on gradient sums "
      f"({two[0]['gradient_bytes_per_step'] / 1e6:.2f} MB), of a {1000 * step:.0f} ms step")
EOF
