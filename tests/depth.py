"""How many cases the sampling tests try: fewer in the developer's unit run, more in CI.

The hypothesis tests, the flipped-byte archive tests and the hostile-size tests sample a space
that has no end; how much of it a run covers is a trade between depth and the unit suite's time
(under 30 s on two cores, the README's command). CI's full run (scripts/test.sh) sets
HARBORCTL_TEST_DEPTH=thorough and tries about three times as many; every test still runs in
both, with the same assertions.
"""

from __future__ import annotations

import os

THOROUGH = os.environ.get("HARBORCTL_TEST_DEPTH", "") == "thorough"


def cases(quick: int, thorough: int) -> int:
    """``thorough`` in CI's full run, ``quick`` otherwise."""
    return thorough if THOROUGH else quick
