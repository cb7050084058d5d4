"""The command line: the only package that imports click or prints.

``main`` itself imports nothing: a `harborctl status` with plain arguments is answered by
quick_status.py without click, PyYAML or the docker package (monitors run it every few
seconds); every other command, and any status the quick path cannot answer exactly as the full
one would, goes to the click application in app.py.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else list(argv)
    if args[:1] == ["status"]:
        from harborctl.cli.quick_status import quick_status

        code = quick_status(args[1:])
        if code is not None:
            sys.exit(code)
    from harborctl.cli.app import cli

    cli(args=args, prog_name="harborctl")
