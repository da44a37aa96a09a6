#!/bin/sh
# Submits sweep.sbatch as a job array and the merge as a job that starts
# once every task has succeeded (OUT/all then holds what one unsharded
# sweep writes); prints the merge job's id. sbatch passes SWEEP, OUT and
# SBMPSIM (see sweep.sbatch) on to the jobs.
set -eu
export SWEEP="${SWEEP:-swap-load}"
export OUT="${OUT:-out/$SWEEP}" SBMPSIM="${SBMPSIM:-sbmpsim}"
array=$(sbatch --parsable "$(dirname "$0")/sweep.sbatch")
sbatch --parsable --job-name=sbmpsim-merge --dependency=afterok:"$array" \
  --wrap '"$SBMPSIM" merge "$OUT"/shard-* --out "$OUT/all"'
