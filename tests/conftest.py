"""Shared fixtures: skip (or, where the host was set up for them, fail) tests whose real programs
or Docker engine are missing."""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.watchdog import pytest_runtest_call  # noqa: F401  (the engine watchdog's hook)

REPO = Path(__file__).resolve().parent.parent


def _bytecode_outside_the_tree() -> None:
    """With PYTHONDONTWRITEBYTECODE set, every run (and every `python -m harborctl` a test
    starts) compiled harborctl and the tests anew: about 7 of 50 s of CPU in the unit suite.
    The wish behind the variable, no __pycache__ in the checkout, is kept: the bytecode goes to
    this user's cache folder (PYTHONPYCACHEPREFIX mirrors each source path there, so worktrees
    do not collide, and Python writes each file atomically, so parallel runs do not either)."""
    if not sys.flags.dont_write_bytecode or os.environ.get("PYTHONPYCACHEPREFIX"):
        return
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    prefix = str(base / "harborctl-tests" / "pycache")
    sys.pycache_prefix = prefix
    sys.dont_write_bytecode = False
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    os.environ["PYTHONPYCACHEPREFIX"] = prefix  # the same for every child process


_bytecode_outside_the_tree()


def _docker_available() -> str | None:
    try:
        import docker

        client = docker.from_env(timeout=5)
        client.ping()
        client.close()
    except Exception as exc:  # any failure means: no usable engine
        return f"no Docker engine: {exc}"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Tests marked long go first, so that parallel workers (pytest -n) do not end with one of
    # them running alone: in file order they came last and stretched the unit suite by 10 s.
    # A stable sort: every worker collects the same order, as pytest-xdist requires.
    items.sort(key=lambda item: item.get_closest_marker("long") is None)
    need_docker = any(item.get_closest_marker("docker") for item in items)
    reason = _docker_available() if need_docker else None
    if reason is None:
        return
    if os.environ.get("HARBORCTL_REQUIRE_DOCKER") == "1":
        raise pytest.UsageError(f"HARBORCTL_REQUIRE_DOCKER=1 but {reason}")
    for item in items:
        if item.get_closest_marker("docker"):
            item.add_marker(pytest.mark.skip(reason=reason))


def require_program(name: str) -> str:
    """The path of a real program a test needs; skip, or fail where the host was set up for it."""
    if name.startswith("/"):
        path: str | None = name if Path(name).exists() else None
    else:
        path = shutil.which(name) or next(
        (str(p) for p in (Path("/usr/sbin") / name, Path("/usr/bin") / name) if p.exists()), None
    )
    if path:
        return path
    message = f"{name} is not installed (scripts/setup-test-host.sh installs it)"
    if os.environ.get("HARBORCTL_REQUIRE_VALIDATORS") == "1":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def cfg_dir(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", default=False,
                     help="rewrite the golden files of rendered output (review the diff!)")


# ---- the real Docker engine and the locally built Harbor test images ----

TEST_LABELS = {"harborctl.test": "1"}


@pytest.fixture(scope="session")
def docker_client() -> Iterator[Any]:
    import docker

    client = docker.from_env(timeout=300)
    yield client
    client.close()


@pytest.fixture(scope="session")
def harbor_images(docker_client: Any) -> list[str]:
    """The goharbor/* test images (built once; a warm run takes about a second)."""
    from tests.images.build import ensure_images

    return ensure_images(docker_client)


@pytest.fixture
def run_container(docker_client: Any) -> Iterator[Any]:
    """Start a labelled, uniquely named container; every one is removed afterwards."""
    started: list[Any] = []

    def run(image: str, **kwargs: Any) -> Any:
        kwargs.setdefault("name", f"harborctl-test-{uuid.uuid4().hex[:10]}")
        kwargs["labels"] = {**TEST_LABELS, **kwargs.get("labels", {})}
        container = docker_client.containers.run(image, detach=True, **kwargs)
        started.append(container)
        return container

    yield run
    for container in started:
        with contextlib.suppress(Exception):  # already gone
            container.remove(force=True)
