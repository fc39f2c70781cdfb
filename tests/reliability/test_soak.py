"""A short soak (bench/soak.py, 20 s instead of 10 min): three apps at 70% of the measured peak,
only 200s and 503s with Retry-After, memory flat after warm-up, one record per served request."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def test_a_short_soak_loses_nothing_and_leaks_nothing() -> None:
    command = [sys.executable, "-m", "bench.soak", "--seconds", "20", "--peak-seconds", "3"]
    finished = subprocess.run(
        [*command, "--json"], cwd=ROOT, capture_output=True, text=True, timeout=110
    )
    assert finished.stdout, finished.stderr
    report = json.loads(finished.stdout)
    failed = [name for name, ok in report["checks"].items() if not ok]
    assert not failed, json.dumps(report, indent=2)
    assert finished.returncode == 0
    assert report["records"]["served"] > 1_000  # it did drive real load
