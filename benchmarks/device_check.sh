#!/usr/bin/env bash
# The device check (issue 10): training, prediction and variant scoring throughput of the
# paper-sized model on one device, and the share of the device's fp32 / bf16 peak FLOPs each reaches.
#
#   benchmarks/device_check.sh                 # on a GPU machine: under 5 minutes
#   benchmarks/device_check.sh --quick         # small sizes, runs on a CPU in under 2 minutes
#   benchmarks/device_check.sh --device cuda:1 --out results.md --peak-fp32 67 --peak-bf16 989
#
# Steps: `mfd simulate` and `mfd prepare` write a data set and its label store into a temporary
# folder (full: 8 Mb genome, 2,108 experiments ~ the paper's 2,106; --quick: 1 Mb, 96), then
# benchmarks/device_check.py measures (see its docstring) and prints a markdown table, also written
# to --out (default build/device_check.md). Copy the table into BENCHMARKS.md.
# PYTHON picks the interpreter (default: the repository's .venv, else python3); --keep keeps the
# temporary folder. Any other option goes to device_check.py.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
if [[ -z "${PYTHON:-}" ]]; then
    if [[ -x "$repo/.venv/bin/python" ]]; then PYTHON="$repo/.venv/bin/python"; else PYTHON=python3; fi
fi
quick=0
keep=0
passed=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --quick) quick=1; passed+=("--quick") ;;
        --keep) keep=1 ;;
        -h|--help) sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) passed+=("$1") ;;
    esac
    shift
done

work=$(mktemp -d "${TMPDIR:-/tmp}/mfd-device-check.XXXXXX")
if [[ $keep -eq 0 ]]; then trap 'rm -rf "$work"' EXIT; else echo "device_check: keeping $work" >&2; fi

mfd() { PYTHONPATH="$repo${PYTHONPATH:+:$PYTHONPATH}" "$PYTHON" -m mfd_model "$@"; }

if [[ $quick -eq 1 ]]; then genome=1e6; experiments=96; else genome=8e6; experiments=2108; fi
cores=$("$PYTHON" -c 'import os; print(len(os.sched_getaffinity(0)))')
started=$SECONDS
echo "device_check: mfd simulate ($genome bp, $experiments experiments) and mfd prepare into $work" >&2
mfd simulate "$work/sim" --genome-size "$genome" --n-experiments "$experiments" --workers "$cores" --quiet >&2
mfd prepare "$work/sim/genome.fa" "$work/sim/metadata.tsv" "$work/labels" --test-chromosomes chr4 --quiet >&2
echo "device_check: data ready after $((SECONDS - started)) s; measuring" >&2
PYTHONPATH="$repo${PYTHONPATH:+:$PYTHONPATH}" "$PYTHON" "$here/device_check.py" \
    --sim "$work/sim" --store "$work/labels" --workdir "$work" ${passed[@]+"${passed[@]}"}
echo "device_check: done in $((SECONDS - started)) s" >&2
