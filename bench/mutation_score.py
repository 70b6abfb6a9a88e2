"""The mutation score from mutmut's results, per file, and the mutants not killed.

    python3 bench/mutation_score.py [--seconds S] [PATTERN ...]

Reads mutants/tree/mutants/**/*.py.meta (written by bench/mutation.sh); PATTERNs (fnmatch on mutant names)
limit the count to the mutants a filtered run tried. bench/MUTATION.md says why each survivor is harmless.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "mutants" / "tree" / "mutants"

# Not scored: the argparse declarations of the training CLI (flag names, help texts) and its entry; what users rely
# on there is tested through main() in tests/test_jobs.py (bench/MUTATION.md).
EXCLUDED = {"skipsnn_core.train.x__parser*": "argparse declarations of the training CLI",
            "skipsnn_core.train.x_main*": "CLI entry: argv -> TrainConfig -> train(), JSON print"}
STATUS = {1: "killed", 3: "killed", 0: "survived", 5: "no tests", 33: "no tests", 34: "skipped", 36: "timeout",
          24: "timeout", -24: "timeout", 152: "timeout", 255: "timeout", 37: "caught by type check", None: "not checked"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=None, help="how long the run took (printed)")
    ap.add_argument("patterns", nargs="*")
    args = ap.parse_args()
    by_file, left, excluded = {}, [], Counter()
    for meta in sorted(RESULTS.rglob("*.py.meta")):
        codes = json.loads(meta.read_text())["exit_code_by_key"]
        counts = by_file.setdefault(meta.name[: -len(".meta")], Counter())
        for name, code in sorted(codes.items()):
            if args.patterns and not any(fnmatch.fnmatch(name, p) for p in args.patterns):
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
    took = f" in {args.seconds / 60:.1f} min" if args.seconds is not None else ""
    print(f"\nmutation score: {total['killed']} / {scored} killed = {100 * total['killed'] / max(scored, 1):.1f} % "
          f"(survived {total['survived']}, timeout {total['timeout']}, no tests {total['no tests']}){took}")


if __name__ == "__main__":
    main()
