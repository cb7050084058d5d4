"""Benchmarks: harborctl side by side with docker-compose 1.29 and Compose v2+, on the same
rendered docker-compose.yml and the same images, runs alternated (A B A B ...) after a warm-up.

The operator's own alternative is a peer too: the same images and the same file reduced to
Harbor's own form (plain `depends_on` lists, no conditions, no `healthcheck:` keys, so the images'
own checks apply), brought up by Compose v2+ with `up -d --wait`. The test images check every
1 s (Harbor's own images every 30 s); harborctl's file checks every 10 s, which Compose, waiting
for Docker's verdicts through its `service_healthy` conditions, pays at each level.

    python -m bench.run [--pairs 5] [--warmup 1] [--output bench/RESULTS.md]

Needs root, a running Docker engine and the goharbor test images (tests/images builds them).
Prints a markdown table of medians and ratios; only ratios are comparable between machines.

harborctl is measured as operators run it: built into a wheel and installed into a virtualenv
of its own, as ./install.sh does (an editable development install starts ~15 ms slower: its
import hook loads at every start). The dependencies come from this environment, offline.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import docker

from bench.cpu import CpuMeter, at_rest
from bench.report import Target, checked_targets, previous_medians, regressions, table
from bench.site import FRESH_DATA, PROJECT, REPOSITORY, write_site_config
from bench.timeline import timed_lines

BIN = Path(sys.executable).parent
SOURCES = ("harborctl", "templates", "scripts/harborctl", "setup.py", "pyproject.toml", "README.md")
COMPOSE_V1 = "/usr/bin/docker-compose"
COMPOSE_V2 = str(BIN / "docker-compose")
HARBOR_FORM = "docker-compose.harbor-form.yml"


@dataclass
class Scenario:
    name: str
    tools: dict[str, Callable[[], None]]  # tool -> one timed run
    before: dict[str, Callable[[], None]] = field(default_factory=dict)  # untimed set-up per run
    times: dict[str, list[float]] = field(default_factory=dict)


def sh(*args: str, cwd: Path | None = None) -> None:
    run = subprocess.run(list(args), cwd=cwd, capture_output=True, text=True, check=False)
    if run.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({run.returncode}):\n{run.stderr[-2000:]}")


def operator_install(root: Path) -> str:
    """Install this checkout like ./install.sh (not editable) under ``root``; return the path of
    its `harborctl` command."""
    source, wheels, venv = root / "source", root / "wheels", root / "venv"
    source.mkdir(parents=True)
    for name in SOURCES:
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        copy = shutil.copytree if (REPOSITORY / name).is_dir() else shutil.copy2
        copy(REPOSITORY / name, source / name)
    pip = (sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet")
    sh(*pip, "wheel", "--no-deps", "--wheel-dir", str(wheels), str(source))
    sh(sys.executable, "-m", "venv", "--without-pip", str(venv))
    python = venv / "bin" / "python"
    # --compile (pip's default, spelt out): the wheel's bytecode is written at install time even
    # under PYTHONDONTWRITEBYTECODE, as for operators; without it every timed run would compile
    # harborctl anew (checked: one .pyc per module in the venv).
    sh(*pip, "--python", str(python), "install", "--no-deps", "--compile",
       *map(str, wheels.glob("*.whl")))
    site_packages = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True).stdout.strip()
    dependencies = "\n".join(p for p in sys.path if p.endswith("site-packages"))
    (Path(site_packages) / "bench-dependencies.pth").write_text(dependencies + "\n")
    return str(venv / "bin" / "harborctl")


class Bench:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.project = root / PROJECT
        self.cfg = write_site_config(self.project, root)
        self.client = docker.from_env(timeout=300)
        self.owner = ""
        self.command = operator_install(root / "operator")
        sh(self.command, "prepare", "-c", str(self.cfg))

    # -- the tools ----------------------------------------------------------------------------
    def harborctl(self, *args: str) -> None:
        sh(self.command, *args, "-c", str(self.cfg))

    def compose(self, binary: str, *args: str, file: str = "docker-compose.yml") -> None:
        sh(binary, "-p", PROJECT, "-f", file, *args, cwd=self.project)

    def harbor_form(self, *args: str) -> None:
        """Compose v2+ on the file in Harbor's own form (written by ``reset``)."""
        self.compose(COMPOSE_V2, *args, file=HARBOR_FORM)

    def wait_all_healthy(self, timeout: float = 300) -> None:
        """What an operator of docker-compose 1.29 must do after `up -d`: wait until every
        container runs, and is healthy where it has a check (polled tightly)."""
        deadline = time.monotonic() + timeout
        api = self.client.api
        while time.monotonic() < deadline:
            found = api.containers(
                all=True, filters={"label": f"com.docker.compose.project={PROJECT}"})
            if found and all(self._ready(api.inspect_container(c["Id"])) for c in found):
                return
            time.sleep(0.1)
        raise RuntimeError("docker-compose deployment did not become healthy")

    @staticmethod
    def _ready(attrs: dict) -> bool:  # type: ignore[type-arg]
        state = attrs["State"]
        health = (state.get("Health") or {}).get("Status")
        return bool(state["Running"]) and health in (None, "healthy")

    # -- set-ups (not timed) ------------------------------------------------------------------
    def reset(self) -> None:
        """No container, fresh data (secrets and rendered files kept)."""
        self.owner = ""
        for container in self.client.containers.list(
                all=True, filters={"label": f"com.docker.compose.project={PROJECT}"}):
            container.remove(force=True)
        for network in self.client.networks.list(
                filters={"label": f"com.docker.compose.project={PROJECT}"}):
            network.remove()
        for name in FRESH_DATA:
            shutil.rmtree(self.root / "data" / name, ignore_errors=True)
        sh(self.command, "prepare", "-c", str(self.cfg))  # recreate the data folders and owners
        write_harbor_form(self.project / "docker-compose.yml", self.project / HARBOR_FORM)

    def up_with(self, tool: str) -> None:
        """A running deployment started by ``tool`` (harborctl, v2 or v1) on fresh data, every
        service healthy as Docker reports it: the same state for every tool before what is timed
        next (harborctl's install returns once each service's own check passes, run by
        harborctl; Docker's first check comes up to 10 s later)."""
        self.reset()
        if tool == "harborctl":
            self.harborctl("install")
            self.wait_all_healthy()
        elif tool == "v2":
            self.compose(COMPOSE_V2, "up", "-d", "--wait")
        elif tool == "harbor-form":
            self.harbor_form("up", "-d", "--wait")
        else:
            self.compose(COMPOSE_V1, "up", "-d")
            self.wait_all_healthy()
        self.owner = tool

    def ensure_running(self, tool: str) -> None:
        # Each tool labels containers with its own config hash: a deployment started by another
        # tool would be recreated, not left alone, so every tool gets its own.
        running = self.client.containers.list(
            filters={"label": f"com.docker.compose.project={PROJECT}", "status": "running"})
        if self.owner != tool or len(running) != 10:
            self.up_with(tool)

    def ensure_stopped(self, tool: str) -> None:
        self.ensure_running(tool)
        if tool == "harborctl":
            self.harborctl("stop")
        elif tool == "harbor-form":
            self.harbor_form("stop")
        else:
            self.compose(COMPOSE_V2 if tool == "v2" else COMPOSE_V1, "stop")
        self.owner = f"{tool} (stopped)"

    def core_images(self) -> list[str]:
        from harborctl.config import load_config
        from harborctl.plan import services_of
        from harborctl.plan.images import image_for

        config = load_config(self.cfg).config
        assert config is not None
        return sorted({image_for(s, config.images) for s in services_of(config)})


def write_harbor_form(rendered: Path, target: Path) -> None:
    """``rendered`` as Harbor 1.7.5's own compose file has it: each ``depends_on`` a plain list
    (start order only, no readiness condition) and no ``healthcheck:`` (the images' own)."""
    import yaml

    document = yaml.safe_load(rendered.read_text())
    for service in document["services"].values():
        service.pop("healthcheck", None)
        service.pop("x-harborctl-start-without", None)
        if "depends_on" in service:
            service["depends_on"] = list(service["depends_on"])
    target.write_text(yaml.safe_dump(document, sort_keys=False))


def scenarios(b: Bench) -> list[Scenario]:
    def v1_up_and_wait() -> None:
        b.compose(COMPOSE_V1, "up", "-d")
        b.wait_all_healthy()

    prepare_dir = b.root / "prepare-all"
    prepare_dir.mkdir()
    cert = prepare_dir / "cert"
    (prepare_dir / "harbor.cfg").write_text(
        "hostname = harbor.bench.test\nui_url_protocol = https\n"
        f"ssl_cert = {cert}/server.crt\nssl_cert_key = {cert}/server.key\n"
        "harbor_admin_password = Bench-pass1\ndb_password = Bench-db1\n"
        f"data_volume = {prepare_dir}/data\nsecretkey_path = {prepare_dir}/data\n"
        f"log_location = {prepare_dir}/log\n"
        "with_notary = on\nwith_clair = on\nwith_chartmuseum = on\n")
    sh(b.command, "gencert", "-c", str(prepare_dir / "harbor.cfg"))
    sh(b.command, "prepare", "-c", str(prepare_dir / "harbor.cfg"))
    bundle = b.root / "harbor.v1.7.5.tar.gz"
    from tests.images.build import ensure_images
    from tests.images.bundle import make_bundle

    make_bundle(b.client, ensure_images(b.client), bundle)

    def harborctl_image_step() -> None:
        from harborctl.engine.api.docker_sdk import SdkEngine
        from harborctl.engine.images.fetch import ensure_images as engine_ensure

        engine_ensure(SdkEngine(b.client), b.core_images(), lambda _message: None, bundle)

    return [
        Scenario(INSTALL, {
            "harborctl install": lambda: b.harborctl("install"),
            "compose v2 up -d --wait": lambda: b.compose(COMPOSE_V2, "up", "-d", "--wait"),
            "compose 1.29 up -d + wait healthy": v1_up_and_wait,
            OPERATOR_UP: lambda: b.harbor_form("up", "-d", "--wait"),
        }, before={"harborctl install": b.reset, "compose v2 up -d --wait": b.reset,
                   "compose 1.29 up -d + wait healthy": b.reset, OPERATOR_UP: b.reset}),
        Scenario("no-op re-install", {
            "harborctl install": lambda: b.harborctl("install"),
            "compose v2 up -d": lambda: b.compose(COMPOSE_V2, "up", "-d"),
            "compose 1.29 up -d": lambda: b.compose(COMPOSE_V1, "up", "-d"),
        }, before={"harborctl install": lambda: b.ensure_running("harborctl"),
                   "compose v2 up -d": lambda: b.ensure_running("v2"),
                   "compose 1.29 up -d": lambda: b.ensure_running("v1")}),
        Scenario("status", {
            "harborctl status": lambda: b.harborctl("status"),
            "compose v2 ps": lambda: b.compose(COMPOSE_V2, "ps"),
            "compose 1.29 ps": lambda: b.compose(COMPOSE_V1, "ps"),
        }, before={"harborctl status": lambda: b.ensure_running("harborctl")}),
        # (compose ps reads harborctl's deployment: same labels, nothing to start)
        Scenario("stop", {
            "harborctl stop": lambda: b.harborctl("stop"),
            "compose v2 stop": lambda: b.compose(COMPOSE_V2, "stop"),
        }, before={"harborctl stop": lambda: b.ensure_running("harborctl"),
                   "compose v2 stop": lambda: b.ensure_running("v2")}),
        Scenario(START, {
            "harborctl start": lambda: b.harborctl("start"),
            "compose v2 start + wait healthy": lambda: (b.compose(COMPOSE_V2, "start"),
                                                        b.wait_all_healthy()),
            OPERATOR_UP: lambda: b.harbor_form("up", "-d", "--wait"),
        }, before={"harborctl start": lambda: b.ensure_stopped("harborctl"),
                   "compose v2 start + wait healthy": lambda: b.ensure_stopped("v2"),
                   OPERATOR_UP: lambda: b.ensure_stopped("harbor-form")}),
        Scenario("prepare re-run, all optional components", {
            "harborctl prepare": lambda: sh(b.command, "prepare", "-c",
                                            str(prepare_dir / "harbor.cfg")),
        }),
        Scenario("CLI start-up", {"harborctl --help": lambda: sh(b.command, "--help")}),
        Scenario("image step, every image already loaded", {
            "harborctl (bundle IDs checked)": harborctl_image_step,
            "docker load -i bundle": lambda: sh("docker", "load", "-i", str(bundle)),
        }),
    ]


# The operator's alternative: Harbor's own compose file brought up by Compose v2+.
OPERATOR_UP = "compose v2 up -d --wait, Harbor's own form"


def measure(items: list[Scenario], pairs: int, warmup: int, log: Callable[[str], None]) -> None:
    for scenario in items:
        log(f"## {scenario.name}")
        for round_ in range(warmup + pairs):
            for tool, run in scenario.tools.items():  # alternated: A B (C) A B (C) ...
                before = scenario.before.get(tool)
                if before:
                    before()
                started = time.perf_counter()
                run()
                elapsed = time.perf_counter() - started
                if round_ >= warmup:
                    scenario.times.setdefault(tool, []).append(elapsed)
                log(f"  {tool}: {elapsed:.3f} s" + (" (warm-up)" if round_ < warmup else ""))


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in
                Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")),
               platform.processor())
    engine = docker.from_env().version()
    return (f"{platform.node()}: {os.cpu_count()} × {cpu}, Linux {platform.release()}, "
            f"Docker {engine['Version']} (API {engine['ApiVersion']}), Python "
            f"{platform.python_version()}")


INSTALL = "install to all healthy (images present, fresh data)"
START = "start (to all healthy)"
# The targets of the issue "faster than the operator's alternative", as medians of the ratios
# of alternated pairs; the prepare re-run's is an absolute bound.
TARGETS = (
    Target(INSTALL, OPERATOR_UP, 0.8, "install ≤ 0.8× Harbor's own file, compose v2 up --wait"),
    Target(INSTALL, "compose v2 up -d --wait", 0.5,
           "install ≤ 0.5× compose v2 on harborctl's file"),
    Target(START, OPERATOR_UP, 0.8, "start ≤ 0.8× Harbor's own file, compose v2 up --wait"),
    Target(START, "compose v2 start + wait healthy", 0.5,
           "start ≤ 0.5× compose v2 on harborctl's file"),
    Target("stop", "compose v2 stop", 0.8, "stop ≤ 0.8× compose v2 stop"),
    Target("prepare re-run, all optional components", None, 0.12,
           "prepare re-run, all components, ≤ 0.12 s"),
)


def install_timeline(b: Bench) -> str:
    """Each line of one `harborctl install` (containers absent, fresh data) with its time; then
    where the host's CPU went, and what the deployment costs at rest."""
    b.reset()
    with CpuMeter() as meter:
        lines = timed_lines([b.command, "install", "-c", str(b.cfg)], dict(os.environ),
                            b.project)
    return "\n".join([*(f"{at:6.2f} s  {text}" for at, text in lines), "",
                      meter.split.line(os.cpu_count() or 1), at_rest(REST_SECONDS)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--output", type=Path, default=None,
                        help="write the results as markdown there (e.g. bench/RESULTS.md)")
    parser.add_argument("--only", default=None,
                        help="run only the scenarios whose name holds this text (no --output)")
    args = parser.parse_args(argv)
    if args.only and args.output:
        parser.error("--only measures part of the table: it cannot --output")
    root = Path(tempfile.mkdtemp(prefix="harborctl-bench-"))
    bench = Bench(root)
    try:
        items = [s for s in scenarios(bench) if not args.only or args.only in s.name]
        measure(items, args.pairs, args.warmup, lambda line: print(line, flush=True))
        timeline = install_timeline(bench) if not args.only else ""
    finally:
        bench.reset()
        shutil.rmtree(root, ignore_errors=True)
    old = args.output.read_text() if args.output and args.output.exists() else ""
    previous = previous_medians(old[:old.index(KEPT)] if KEPT in old else old)
    slower = regressions(items, previous)
    command = "python -m bench.run " + " ".join(argv if argv is not None else sys.argv[1:])
    report = (f"# Benchmark results\n\nCommand: `{command.strip()}` (as root, from the repository)"
              f"\n\nMachine: {machine()}\n\nharborctl: this checkout built as a wheel and "
              "installed into a virtualenv of its own, as ./install.sh installs it for operators."
              f"\n\nMedians of {args.pairs} alternated run(s) after "
              f"{args.warmup} warm-up; ratio = harborctl's median / the peer's median (below 1: "
              "harborctl is faster); pair ratios: harborctl's time over the peer's in each "
              f"alternated pair.\n\n{table(items, previous)}\n\n## Targets\n\n"
              f"{checked_targets(items, TARGETS)}\n\n"
              "## Regressions against the previous run (harborctl's median up by over 10 %)\n\n"
              + ("\n".join(f"- {line}" for line in slower) if slower else "none") + "\n")
    if timeline:
        report += ("\n## Where the time of one install goes\n\nEach line `harborctl install` "
                   "printed, with the time since the command started (containers absent, fresh "
                   f"data):\n\n```\n{timeline}\n```\n")
    print(report)
    if args.output:
        # Figures measured by other benchmarks or tests (below KEPT in the file) stay.
        kept = old[old.index(KEPT):] if KEPT in old else KEPT + "\n"
        args.output.write_text(report + "\n" + kept)
    return 0


REST_SECONDS = 10.0
KEPT = "<!-- measured elsewhere; bench.run keeps everything below this line -->"


if __name__ == "__main__":
    sys.exit(main())
