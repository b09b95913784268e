"""Every benchmark script still imports what it uses: moving a test kit must not break the commands in BENCHMARKS.md."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.helpers import ROOT

# The scripts, not the modules they share (those have no __main__ block).
SCRIPTS = sorted(p for p in (ROOT / "benchmarks").glob("*.py") if '__name__ == "__main__"' in p.read_text())


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_the_benchmark_answers_help(script):
    done = subprocess.run([sys.executable, str(script), "--help"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "usage" in done.stdout.lower()
