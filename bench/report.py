"""The markdown of bench.run: the table of medians and ratios, the issue's targets checked
against them, and the previous run's medians beside this run's (a regression shows there)."""

from __future__ import annotations

import re
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol


class Measured(Protocol):
    name: str
    times: dict[str, list[float]]


@dataclass(frozen=True)
class Target:
    scenario: str
    peer: str | None  # None: an absolute bound on harborctl's own median, in seconds
    bound: float
    what: str


def pair_ratios(scenario: Measured, peer: str) -> list[float]:
    """harborctl's time over the peer's, run by run (the runs were alternated in pairs)."""
    first = next(iter(scenario.times))
    return [ours / theirs for ours, theirs in zip(scenario.times[first], scenario.times[peer])]


def previous_medians(text: str) -> dict[tuple[str, str], float]:
    """``{(scenario, tool): median}`` of a RESULTS.md written by an earlier run."""
    found = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and re.fullmatch(r"\d+\.\d+", cells[2]):
            found[(cells[0], cells[1])] = float(cells[2])
    return found


def table(items: Sequence[Measured], previous: Mapping[tuple[str, str], float]) -> str:
    rows = ["| scenario | tool | median (s) | runs | ratio of medians | median of pair ratios "
            "| previous run's median (s) |", "|---|---|---:|---:|---|---|---:|"]
    for scenario in items:
        medians = {tool: statistics.median(times) for tool, times in scenario.times.items()}
        first = next(iter(medians))
        for tool, value in medians.items():
            ratio = pairs = ""
            if tool != first:
                ratio = f"harborctl = {medians[first] / value:.2f}×"
                pairs = f"{statistics.median(pair_ratios(scenario, tool)):.2f}×"
            before = previous.get((scenario.name, tool))
            rows.append(f"| {scenario.name} | {tool} | {value:.3f} | "
                        f"{len(scenario.times[tool])} | {ratio} | {pairs} | "
                        f"{'' if before is None else f'{before:.3f}'} |")
    return "\n".join(rows)


def checked_targets(items: Sequence[Measured], targets: Sequence[Target]) -> str:
    by_name = {s.name: s for s in items}
    rows = ["| target | measured | met |", "|---|---:|---|"]
    for target in targets:
        scenario = by_name.get(target.scenario)
        if scenario is None or (target.peer and target.peer not in scenario.times):
            rows.append(f"| {target.what} | not measured | no |")
            continue
        if target.peer is None:
            value = statistics.median(next(iter(scenario.times.values())))
            shown = f"{value:.3f} s"
        else:
            value = statistics.median(pair_ratios(scenario, target.peer))
            shown = f"{value:.2f}×"
        rows.append(f"| {target.what} | {shown} | {'yes' if value <= target.bound else 'no'} |")
    return "\n".join(rows)


def regressions(items: Sequence[Measured], previous: Mapping[tuple[str, str], float],
                tolerance: float = 0.10) -> list[str]:
    """harborctl's rows whose median grew by more than ``tolerance`` since the previous run."""
    slower = []
    for scenario in items:
        tool = next(iter(scenario.times))
        before = previous.get((scenario.name, tool))
        now = statistics.median(scenario.times[tool])
        if before is not None and now > before * (1 + tolerance):
            slower.append(f"{scenario.name} ({tool}): {before:.3f} s → {now:.3f} s")
    return slower
