"""The command line: the only package that imports click or prints.

``main`` itself imports nothing: a `harborctl status` with plain arguments is answered by
quick_status.py without click, PyYAML or the docker package (monitors run it every few
seconds), and a plain `harborctl prepare` that would change nothing by quick_prepare.py from
the record of the last one; every other command, and anything the quick paths cannot answer
exactly as the full command would, goes to the click application in app.py.
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
    if args[:1] == ["prepare"]:
        from harborctl.cli import quick_prepare

        code = quick_prepare.quick_prepare(args[1:])
        if code is not None:
            sys.exit(code)
    from harborctl.cli.app import cli

    # The full prepare records its run under the arguments it was given on the command line:
    # the only ones a later quick path can recognise (a test's CliRunner call records nothing).
    cli(args=args, prog_name="harborctl", obj={"argv": args})
