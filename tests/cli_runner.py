"""click's CliRunner as click 8.2+ behaves, on every click harborctl supports: ``stdout`` and
``stderr`` captured apart, ``output`` holding both (what the operator's terminal shows).

click 8.1 (the last release for Python 3.9) either mixes stderr into stdout, or, with
``mix_stderr=False``, keeps them apart but leaves stderr out of ``output``.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

from click.testing import CliRunner, Result


class _BothStreamsResult(Result):
    @property
    def output(self) -> str:
        # click 8.2 interleaves the two; the tests only look for text, so one after the other
        return self.stdout + self.stderr


class _SeparateStreamsRunner(CliRunner):
    def invoke(self, *args: Any, **kwargs: Any) -> Result:
        got = super().invoke(*args, **kwargs)
        return _BothStreamsResult(
            runner=self, stdout_bytes=got.stdout_bytes, stderr_bytes=got.stderr_bytes,
            return_value=got.return_value, exit_code=got.exit_code, exception=got.exception,
            exc_info=got.exc_info,
        )


def cli_runner(env: Mapping[str, str | None] | None = None) -> CliRunner:
    if "mix_stderr" in inspect.signature(CliRunner.__init__).parameters:
        return _SeparateStreamsRunner(env=env, mix_stderr=False)
    return CliRunner(env=env)
