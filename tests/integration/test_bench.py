"""The benchmark script runs (one pair, no warm-up), so that it cannot rot. Its figures are not
judged here: benchmarks are never timed asserts."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bench import run

pytestmark = pytest.mark.docker


def test_bench_runs_every_scenario(harbor_images: list[str], tmp_path: Path) -> None:
    output = tmp_path / "RESULTS.md"
    assert run.main(["--pairs", "1", "--warmup", "0", "--output", str(output)]) == 0
    text = output.read_text()
    for scenario in ("install to all healthy", "no-op re-install", "status", "stop",
                     "start (to all healthy)", "prepare re-run", "CLI start-up", "image step"):
        assert f"| {scenario}" in text, scenario
    lines = text.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("| scenario | tool |"))
    end = lines.index("", header)
    rows = lines[header + 2:end]
    assert len(rows) == 19  # 17, and the operator's alternative beside install and start
    assert all(re.search(r"\| \d+\.\d{3} \| 1 \|", row) for row in rows), rows
    targets = text[text.index("## Targets"):]
    assert targets.count("| yes |") + targets.count("| no |") == len(run.TARGETS)
    assert "## Where the time of one install goes" in text and "Harbor is ready" in text
