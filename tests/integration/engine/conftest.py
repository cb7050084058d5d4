"""Fixtures for the engine's tests against the real Docker engine, with tiny busybox images.

Every container and network is labelled ``harborctl.test=1`` and carries a unique compose project
name starting with ``hcengine``; each test removes its own by label in a finalizer, and the session
first removes leftovers of crashed runs (only old ones of this prefix: other runs may be going on).
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import docker
import pytest

from harborctl.engine.api.docker_sdk import SdkEngine, connect
from harborctl.errors import DockerUnavailableError
from tests.integration.engine.engine_stack import (
    Recorder,
    Stack,
    free_port,
    remove_project,
    skip_or_fail,
    write_stack,
)

PREFIX = "hcengine"
TEST_LABEL = "harborctl.test=1"
LEFTOVER_AGE_S = 3600
IMAGE_REPO = "harborctl-test/engine-busybox"
BUSYBOX = Path("/bin/busybox")
DOCKERFILE = """\
FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
"""


@pytest.fixture(scope="session")
def client() -> Iterator[docker.DockerClient]:
    try:
        docker_client = connect(timeout=120).client
    except DockerUnavailableError as exc:
        skip_or_fail(f"no Docker engine: {exc.message}")
    # Leftovers of crashed runs only: a project whose newest container is an hour old. A run
    # going on next to this one (another checkout, another session) is left alone.
    newest: dict[str, int] = {}
    for entry in docker_client.api.containers(all=True, filters={"label": TEST_LABEL}):
        project = (entry.get("Labels") or {}).get("com.docker.compose.project", "")
        if project.startswith(PREFIX):
            newest[project] = max(newest.get(project, 0), int(entry.get("Created") or 0))
    for project, created in sorted(newest.items()):
        if created < time.time() - LEFTOVER_AGE_S:
            remove_project(docker_client, project)
    yield docker_client
    docker_client.close()


@pytest.fixture(scope="session")
def engine(client: docker.DockerClient) -> SdkEngine:
    """harborctl's engine seam over the same SDK client the tests look with."""
    return SdkEngine(client)


@pytest.fixture(scope="session")
def busybox_image(client: docker.DockerClient) -> str:
    """A FROM-scratch image with Debian's static busybox; rebuilt only when busybox changes."""
    if not BUSYBOX.is_file() or b"/lib64/ld-linux" in BUSYBOX.read_bytes()[:4096]:
        skip_or_fail("needs a static /bin/busybox: apt-get install -y busybox-static")
    digest = hashlib.sha256(BUSYBOX.read_bytes() + DOCKERFILE.encode()).hexdigest()[:12]
    tag = f"{IMAGE_REPO}:{digest}"
    try:
        client.images.get(tag)
        return tag
    except docker.errors.ImageNotFound:
        pass
    with tempfile.TemporaryDirectory() as context:
        shutil.copy2(BUSYBOX, Path(context) / "busybox")
        (Path(context) / "Dockerfile").write_text(DOCKERFILE)
        client.images.build(path=context, tag=tag, rm=True, labels={"harborctl.test": "1"})
    return tag


@pytest.fixture
def make_stack(
    client: docker.DockerClient, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Callable[[], Stack]]:
    made: list[str] = []

    def make() -> Stack:
        name = f"{PREFIX}{uuid.uuid4().hex[:8]}"
        made.append(name)
        root = tmp_path / name
        (root / "common/config").mkdir(parents=True)
        return Stack(root, name)

    yield make
    for name in made:
        remove_project(client, name)


@pytest.fixture
def report() -> Recorder:
    return Recorder()


@pytest.fixture
def stack(make_stack: Callable[[], Stack], busybox_image: str) -> Stack:
    """The four-service stand-in stack, written with fresh ports (not started)."""
    made = make_stack()
    write_stack(made, busybox_image, free_port(), free_port())
    return made
