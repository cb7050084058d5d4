"""Where the host's CPU goes while Harbor starts, and what it costs once everything is up.

On a 2-core host an install is CPU-bound: the database's first start (initdb) waits for a core
while the engine starts the other containers and runs their health checks. These figures say
how much of that work is harborctl's own and how much the deployment costs at rest.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

_TICKS = os.sysconf("SC_CLK_TCK")


def host_busy_seconds() -> float:
    """CPU seconds all cores spent on anything but idle and I/O wait since boot."""
    with open("/proc/stat") as stat:
        values = [int(v) for v in stat.readline().split()[1:]]
    idle, iowait = values[3], values[4]
    return (sum(values) - idle - iowait) / _TICKS


def children_seconds() -> float:
    """CPU seconds of this process's finished children (the harborctl that ran)."""
    times = os.times()
    return times.children_user + times.children_system


@dataclass(frozen=True)
class CpuSplit:
    wall: float
    host_busy: float  # every process on the host, the engine and the containers included
    harborctl: float  # harborctl's own process

    def line(self, cores: int) -> str:
        return (f"host CPU busy {self.host_busy:.1f} s of the {self.wall * cores:.1f} s that "
                f"{cores} cores had in {self.wall:.1f} s; harborctl's own process "
                f"{self.harborctl:.1f} s")


class CpuMeter:
    """Measures one block: ``with CpuMeter() as meter: ...`` then ``meter.split``."""

    def __enter__(self) -> CpuMeter:
        self._started = (time.perf_counter(), host_busy_seconds(), children_seconds())
        return self

    def __exit__(self, *_exc: object) -> None:
        wall, busy, children = self._started
        self.split = CpuSplit(time.perf_counter() - wall, host_busy_seconds() - busy,
                              children_seconds() - children)


def at_rest(seconds: float) -> str:
    """The host's CPU seconds per second over ``seconds`` of doing nothing while the deployment
    runs, as the line the benchmarks print."""
    before = host_busy_seconds()
    time.sleep(seconds)
    rate = (host_busy_seconds() - before) / seconds
    return f"at rest, every service up: {rate:.2f} host CPU s per s (over {seconds:g} s)"
