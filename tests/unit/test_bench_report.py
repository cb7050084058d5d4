"""bench/report.py: the targets and the regression check read the right numbers."""

from __future__ import annotations

from dataclasses import dataclass, field

from bench.report import Target, checked_targets, previous_medians, regressions, table


@dataclass
class Run:
    name: str
    times: dict[str, list[float]] = field(default_factory=dict)


def test_targets_are_medians_of_pair_ratios_and_absolute_bounds() -> None:
    install = Run("install", {"harborctl": [4.0, 8.0, 4.0], "peer": [10.0, 8.0, 4.0]})
    prepare = Run("prepare", {"harborctl": [0.2, 0.1, 0.1]})
    text = checked_targets([install, prepare], [
        Target("install", "peer", 0.8, "install fast"),  # pair ratios 0.4, 1.0, 1.0 → 1.00
        Target("prepare", None, 0.12, "prepare fast"),
        Target("stop", "peer", 0.8, "stop fast"),
    ])
    assert "| install fast | 1.00× | no |" in text
    assert "| prepare fast | 0.100 s | yes |" in text
    assert "| stop fast | not measured | no |" in text


def test_the_previous_table_is_read_back_and_a_slower_median_is_named() -> None:
    before = Run("status", {"harborctl status": [0.05], "compose ps": [0.2]})
    previous = previous_medians(table([before], {}))
    assert previous == {("status", "harborctl status"): 0.05, ("status", "compose ps"): 0.2}
    now = Run("status", {"harborctl status": [0.06], "compose ps": [0.2]})
    assert regressions([now], previous) == ["status (harborctl status): 0.050 s → 0.060 s"]
    assert regressions([before], previous) == []
