"""Fixtures for tests that use the real Docker engine and the locally built Harbor test images."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

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
