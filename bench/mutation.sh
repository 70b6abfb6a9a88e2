#!/usr/bin/env bash
# Mutation testing of the SkipSNN core (issue 7): plant a bug, the fast core tests must fail.
#
#   bench/mutation.sh              # everything, from a clean state (about an hour on 2 shared cores)
#   bench/mutation.sh 'skipsnn_core.metrics*'   # only the mutants whose names match (still from clean)
#
# mutmut 3.8.1, configured in setup.cfg [mutmut]: mutants of neurons.py, model.py, noise.py, metrics.py
# and train.py, killed by tests/test_{neurons,model,noise,metrics,honesty,train,checkpoint,equations}.py
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

python3 - "$elapsed" "$@" <<'EOF'
"""Score from mutmut's per-file results (mutants/tree/mutants/**/*.py.meta; cwd is mutants/tree)."""
import fnmatch, json, sys
from collections import Counter
from pathlib import Path

# Not scored: the argparse wiring of the training CLI. Its mutants have no in-process test (the CLI is
# exercised through subprocesses in tests/test_train.py, which mutmut cannot attribute to a function).
EXCLUDED = {"skipsnn_core.train.x__parser*": "argparse wiring of the training CLI",
            "skipsnn_core.train.x_main*": "CLI entry: argv -> TrainConfig -> train(), JSON print"}
STATUS = {1: "killed", 3: "killed", 0: "survived", 5: "no tests", 33: "no tests", 34: "skipped", 36: "timeout",
          24: "timeout", -24: "timeout", 152: "timeout", 255: "timeout", 37: "caught by type check", None: "not checked"}

only = sys.argv[2:]  # the mutant name patterns given to this script, if any
by_file, left, excluded = {}, [], Counter()
for meta in sorted(Path("mutants").rglob("*.py.meta")):
    codes = json.loads(meta.read_text())["exit_code_by_key"]
    counts = by_file.setdefault(meta.name[: -len(".meta")], Counter())
    for name, code in sorted(codes.items()):
        if only and not any(fnmatch.fnmatch(name, p) for p in only):
            continue
        reason = next((why for pattern, why in EXCLUDED.items() if fnmatch.fnmatch(name, pattern)), None)
        if reason:
            excluded[reason] += 1
            continue
        status = STATUS.get(code, "suspicious")
        counts[status] += 1
        if status != "killed":
            left.append(f"{status:12s} {name}")

total = Counter()
print(f"{'file':12s} {'killed':>7s} {'survived':>9s} {'timeout':>8s} {'no tests':>9s} {'other':>6s} {'scored':>7s}")
for name, c in ((n, c) for n, c in by_file.items() if sum(c.values())):
    total.update(c)
    other = sum(c.values()) - c["killed"] - c["survived"] - c["timeout"] - c["no tests"]
    print(f"{name:12s} {c['killed']:7d} {c['survived']:9d} {c['timeout']:8d} {c['no tests']:9d} {other:6d} {sum(c.values()):7d}")
scored = sum(total.values())
for reason, n in excluded.items():
    print(f"not scored: {n} mutants of the {reason}")
print("\nnot killed:" if left else "\nnot killed: none")
print("\n".join("  " + line for line in left))
minutes = int(sys.argv[1]) / 60
print(f"\nmutation score: {total['killed']} / {scored} killed = {100 * total['killed'] / max(scored, 1):.1f} % "
      f"(survived {total['survived']}, timeout {total['timeout']}, no tests {total['no tests']}) in {minutes:.1f} min")
EOF
