"""Fixtures for the engine's unit tests on the fake engine."""

from __future__ import annotations

import pytest

from tests.unit.engine.fake_engine import FakeEngine
from tests.unit.engine.fake_stack import IMAGE, IMAGE_ID


@pytest.fixture
def engine() -> FakeEngine:
    return FakeEngine({IMAGE: IMAGE_ID})
