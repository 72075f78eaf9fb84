"""Audit the locked dependencies for known vulnerabilities (``make audit``, part of ``make check``).

Usage: ``python .ci/audit_dependencies.py REQUIREMENTS [pip-audit options...]``
where REQUIREMENTS is ``uv export --frozen --no-hashes`` output (exact pins).

pip-audit exits 1 both when it finds a vulnerability and when it crashes
(no network), and exits 0 when the advisory service knows none of the
packages (a package mirror that serves no vulnerability data answers 404 for
each). Its JSON report tells these apart, so this script decides:

* a vulnerability reported: list it, exit 1;
* the service unreachable or silent on some packages: one warning line, exit 0
  (a mirror without advisories must not fail the build);
* otherwise: one line saying how many packages were checked, exit 0.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

_TIME_LIMIT = 180  # seconds; pip-audit's own --timeout bounds each request


def _warn(message: str) -> int:
    print(f"warning: dependency audit not done: {message}", file=sys.stderr)
    return 0


def _report(dependencies: list[dict[str, Any]]) -> int:
    vulnerable = [d for d in dependencies if d.get("vulns")]
    for dep in vulnerable:
        for vuln in dep["vulns"]:
            fixed = ", ".join(vuln.get("fix_versions") or []) or "no fixed release"
            print(f"{dep['name']} {dep['version']}: {vuln['id']} (fixed in {fixed})")
    if vulnerable:
        count = sum(len(d["vulns"]) for d in vulnerable)
        print(f"dependency audit: {count} known vulnerabilities")
        print("(to accept one after review: make audit AUDIT_ARGS=--ignore-vuln=ID)")
        return 1
    skipped = [d for d in dependencies if "skip_reason" in d]
    if skipped:
        return _warn(
            f"the vulnerability service had no answer for {len(skipped)} of "
            f"{len(dependencies)} locked packages (first: {skipped[0]['skip_reason']})"
        )
    print(f"dependency audit: no known vulnerabilities in {len(dependencies)} locked packages")
    return 0


def main(requirements: str, *extra: str) -> int:
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "audit.json"
        command = [
            sys.executable,
            "-m",
            "pip_audit",
            "--requirement",
            requirements,
            "--no-deps",  # the export is the whole locked set, every version pinned
            "--disable-pip",
            "--progress-spinner=off",
            "--timeout=10",
            "--format=json",
            f"--output={report}",
            *extra,
        ]
        try:
            done = subprocess.run(  # noqa: S603 -- our own interpreter and arguments
                command, capture_output=True, text=True, timeout=_TIME_LIMIT
            )
        except subprocess.TimeoutExpired:
            return _warn(f"pip-audit took longer than {_TIME_LIMIT} s")
        text = report.read_text() if report.exists() else ""
    if not text.strip():
        lines = done.stderr.strip().splitlines() or [f"exit status {done.returncode}"]
        return _warn(f"pip-audit failed: {lines[-1]}")
    return _report(json.loads(text)["dependencies"])


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    sys.exit(main(*sys.argv[1:]))
