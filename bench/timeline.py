"""The timeline of one `harborctl install` (containers absent, data fresh) or, with ``--start``,
of one `harborctl start` (the containers of an install, stopped): each line harborctl prints,
with the time since the command started. Where the time of an install or a start goes.

    python -m bench.timeline [--runs 3] [--source DIR] [--rest SECONDS] [--start]

``--source``: the harborctl checkout to run (default: this one), e.g. another branch to compare.
Needs root, a running Docker engine and the goharbor test images (tests/images builds them).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import docker

from bench.cpu import CpuMeter, at_rest
from bench.site import FRESH_DATA, PROJECT, REPOSITORY, free_port


def timed_lines(argv: list[str], env: dict[str, str], cwd: Path) -> list[tuple[float, str]]:
    """Run ``argv``; each line it prints with the seconds since it started, then its exit."""
    env = {**env, "PYTHONUNBUFFERED": "1"}
    started = time.perf_counter()
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, env=env, cwd=cwd)
    assert process.stdout is not None
    lines = [(time.perf_counter() - started, line.rstrip()) for line in process.stdout]
    if process.wait() != 0:
        raise RuntimeError(f"{argv[0]} failed:\n" + "\n".join(text for _, text in lines[-20:]))
    lines.append((time.perf_counter() - started, "(exit)"))
    return lines


def one_run(python: str, command: str, cfg: Path, source: Path) -> list[tuple[float, str]]:
    # cwd too: `python -m` puts the working directory first on the path
    return timed_lines([python, "-m", "harborctl", command, "-c", str(cfg)],
                       {**os.environ, "PYTHONPATH": str(source)}, source)


def reset(client: docker.DockerClient, root: Path) -> None:
    for container in client.containers.list(
            all=True, filters={"label": f"com.docker.compose.project={PROJECT}"}):
        container.remove(force=True)
    for name in FRESH_DATA:
        shutil.rmtree(root / "data" / name, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--source", type=Path, default=REPOSITORY)
    parser.add_argument("--rest", type=float, default=10.0,
                        help="then measure the host's CPU at rest for this many seconds (0: no)")
    parser.add_argument("--start", action="store_true",
                        help="time `harborctl start` of the stopped containers of an install")
    args = parser.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="harborctl-timeline-"))
    folder = root / PROJECT
    folder.mkdir()
    cfg = folder / "harbor.cfg"
    cfg.write_text(
        f"hostname = harbor.bench.test\nhttp_port = {free_port()}\n"
        "harbor_admin_password = Bench-pass1\ndb_password = Bench-db1\n"
        f"data_volume = {root}/data\nsecretkey_path = {root}/data\nlog_location = {root}/log\n")
    client = docker.from_env(timeout=300)
    try:
        source = args.source.resolve()
        for run in range(args.runs):
            if args.start:
                if run == 0:
                    reset(client, root)
                    one_run(sys.executable, "install", cfg, source)
                one_run(sys.executable, "stop", cfg, source)
            else:
                reset(client, root)
            with CpuMeter() as meter:
                lines = one_run(sys.executable, "start" if args.start else "install", cfg, source)
            print(f"## run {run + 1}: {lines[-1][0]:.2f} s")
            for at, text in lines:
                print(f"{at:7.2f} s  {text}")
            print(meter.split.line(os.cpu_count() or 1))
            if args.rest:
                print(at_rest(args.rest))
    finally:
        reset(client, root)
        for network in client.networks.list(
                filters={"label": f"com.docker.compose.project={PROJECT}"}):
            network.remove()
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
