"""Comments say why; measured figures live in bench/README.md, where they are dated.

A timing quoted in a comment goes stale the day the code around it changes, and
nothing tells the reader it did. This walks every comment and docstring in the
package and fails on a duration in micro- or milliseconds.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "scimgate"

_TIMING = re.compile(r"\d\s*(?:µs|us|ms|ns)\b")


def _prose(source: str) -> list[tuple[int, str]]:
    found = [
        (token.start[0], token.string)
        for token in tokenize.generate_tokens(io.StringIO(source).readline)
        if token.type == tokenize.COMMENT
    ]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            doc = ast.get_docstring(node, clean=False)
            if doc:
                found.append((getattr(node, "lineno", 1), doc))
    return found


def timings_in(source: str) -> list[tuple[int, str]]:
    return [(line, text) for line, text in _prose(source) if _TIMING.search(text)]


def test_no_comment_or_docstring_quotes_a_timing() -> None:
    offences = [
        f"{path.relative_to(PACKAGE)}:{line}: {text.strip()[:80]}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for line, text in timings_in(path.read_text())
    ]
    assert offences == []


def test_the_check_finds_a_timing_in_a_comment_and_a_docstring() -> None:
    source = 'def f():\n    """Costs ~40 µs."""\n    return 1  # about 3 ms on SQLite\n'
    assert sorted(line for line, _ in timings_in(source)) == [1, 3]
