#!/usr/bin/env bash
# Mutation testing of the SkipSNN core (issue 7): plant a bug, the fast core tests must fail.
#
#   bench/mutation.sh              # everything, from a clean state (about an hour on 2 shared cores)
#   bench/mutation.sh 'skipsnn_core.metrics*'   # only the mutants whose names match (still from clean)
#
# mutmut 3.8.1, configured in setup.cfg [mutmut]: mutants of neurons.py, model.py, noise.py, metrics.py
# and train.py, killed by tests/test_{neurons,model,noise,metrics,honesty,train,checkpoint,equations,jobs}.py
# (no Streamlit AppTest, no browser). Prints killed / scored and the survivors; bench/MUTATION.md says
# why each survivor is left. Results stay in mutants/ (git-ignored): `cd mutants/tree && mutmut show NAME`
# gives a mutant's diff.
set -euo pipefail
cd "$(dirname "$0")/.."

export SKIPSNN_NMNIST_DIR="${SKIPSNN_NMNIST_DIR:-$(cd .. && pwd)/shared/data/nmnist}"
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 NUMBA_NUM_THREADS=1 PYTHONHASHSEED=0
MUTMUT=(mutmut)
command -v mutmut >/dev/null || MUTMUT=(python3 -m mutmut)

# mutmut works in a staged copy, mutants/tree (git-ignored), where the two @torch.no_grad() functions
# (evaluate, SkipSNN.trace) are written as `with torch.no_grad():` blocks: mutmut 3.8.1 skips decorated
# functions. See bench/mutation_stage.py. mutmut itself then works in mutants/tree/mutants.
rm -rf mutants
python3 bench/mutation_stage.py mutants/tree
cd mutants/tree
started=$(date +%s)
# one worker: the machine is shared; mutmut's spinner output goes to the log
if ! nice -n 10 "${MUTMUT[@]}" run --max-children "${MUTMUT_CHILDREN:-1}" "$@" > ../run.log 2>&1; then
    tail -n 40 ../run.log
    echo "mutmut run failed (log: mutants/run.log)" >&2
    exit 1
fi
elapsed=$(( $(date +%s) - started ))

python3 ../../bench/mutation_score.py --seconds "$elapsed" "$@"
