"""Stage the tree that bench/mutation.sh mutation-tests: STAGE/{skipsnn_core,tests,bench,setup.cfg}.

mutmut 3.8.1 never mutates a decorated function, and two functions the core is judged by are
decorated with ``@torch.no_grad()``: ``train.evaluate_thresholds`` (every reported figure, through
``evaluate``) and ``SkipSNN.trace`` (everything the app shows). In the staged copy of ``skipsnn_core`` (only there,
the real core is untouched) such a function is written with the decorator as a ``with`` block,
which behaves the same for a plain function:

    @torch.no_grad()                    def evaluate(...):
    def evaluate(...):          ->          \"\"\"docstring\"\"\"
        \"\"\"docstring\"\"\"                       with torch.no_grad():
        body                                    body

so both get mutants. Nothing else changes. Usage: python3 bench/mutation_stage.py STAGE
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import libcst as cst
import libcst.matchers as m

ROOT = Path(__file__).resolve().parents[1]
NO_GRAD = m.Decorator(decorator=m.Call(func=m.Attribute(value=m.Name("torch"), attr=m.Name("no_grad")), args=[]))
DOCSTRING = m.SimpleStatementLine(body=[m.Expr(value=m.SimpleString() | m.ConcatenatedString())])


class NoGradAsWith(cst.CSTTransformer):
    def __init__(self) -> None:
        self.rewritten: list[str] = []

    def leave_FunctionDef(self, original: cst.FunctionDef, node: cst.FunctionDef) -> cst.FunctionDef:
        kept = [d for d in node.decorators if not m.matches(d, NO_GRAD)]
        if len(kept) == len(node.decorators):
            return node
        body = list(node.body.body)
        head = [body.pop(0)] if body and m.matches(body[0], DOCSTRING) else []
        block = cst.With(items=[cst.WithItem(cst.parse_expression("torch.no_grad()"))], body=cst.IndentedBlock(body=body))
        self.rewritten.append(node.name.value)
        return node.with_changes(decorators=kept, body=node.body.with_changes(body=[*head, block]))


def stage(dest: Path) -> list[str]:
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for folder in ("skipsnn_core", "tests", "bench"):
        shutil.copytree(ROOT / folder, dest / folder, ignore=ignore)
    shutil.copy2(ROOT / "setup.cfg", dest / "setup.cfg")
    rewritten = []
    for path in sorted((dest / "skipsnn_core").rglob("*.py")):
        source = path.read_text()
        if "torch.no_grad()" not in source:
            continue
        transformer = NoGradAsWith()
        new = cst.parse_module(source).visit(transformer)
        if transformer.rewritten:
            path.write_text(new.code)
            rewritten += [f"{path.relative_to(dest)}:{name}" for name in transformer.rewritten]
    return rewritten


if __name__ == "__main__":
    for item in stage(Path(sys.argv[1]).resolve()):
        print(f"staged @torch.no_grad() as a with block: {item}")
