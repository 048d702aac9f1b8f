"""No function in ``storemon_tui`` is longer than 60 lines: the project's rule, kept true by a test.

Length is counted from the ``def`` line to the function's last line,
docstring, comments and blank lines included: what a reader has to take in.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "storemon_tui"
LIMIT = 60


def long_functions(package: Path = PACKAGE, limit: int = LIMIT) -> list[str]:
    """``path:line name (N lines)`` for every function or method longer than ``limit`` lines."""
    found = []
    for path in sorted(package.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > limit:
                    found.append(f"{path.relative_to(package.parent)}:{node.lineno} {node.name} ({length} lines)")
    return found


def test_no_function_is_longer_than_60_lines() -> None:
    assert long_functions() == []


def test_the_check_sees_a_long_function(tmp_path: Path) -> None:
    body = "".join(f"        x{i} = {i}\n" for i in range(60))
    (tmp_path / "m.py").write_text(f"def short():\n    pass\n\n\nclass C:\n    def long(self):\n{body}")
    assert long_functions(tmp_path) == [f"{tmp_path.name}/m.py:6 long (61 lines)"]
