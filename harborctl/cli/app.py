"""The click application: every command, and the one error boundary.

Heavy modules (docker, jinja2, cryptography) are imported inside the commands that need them, so
``harborctl --help`` starts fast.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sys
from typing import Any

import click

from harborctl import __version__
from harborctl.cli.commands import register
from harborctl.errors import EXIT_FAILED, EXIT_INTERRUPTED, ConfigError, HarborctlError

# A closed stdout ends the command quietly with what a shell tool killed by SIGPIPE returns.
EXIT_BROKEN_PIPE = 128 + 13
STAGE = "harborctl.stage"  # ctx.meta key: where a long command is, for an interruption's message


class ErrorBoundary(click.Group):
    """The single place where errors become a sentence on stderr and an exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        debug = bool(ctx.params.get("debug")) or os.environ.get("HARBORCTL_DEBUG") == "1"
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except HarborctlError as exc:
            if debug:
                _print_traceback()
            _report(exc)
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            # click would print "Aborted!"; the operator needs where it stopped and what now
            stage = ctx.meta.get(STAGE)
            where = f" during {stage}" if stage else ""
            click.echo(f"\nError: interrupted (Ctrl-C){where}", err=True)
            command = ctx.invoked_subcommand
            click.echo(f"  hint: nothing half-done is used; run 'harborctl {command}' again to "
                       "finish", err=True)
            ctx.exit(EXIT_INTERRUPTED)
        except Exception as exc:  # anything unexpected: one line, the traceback only with --debug
            if debug:
                _print_traceback()
            if isinstance(exc, OSError) and _output_failed(exc):
                _silence_stdout()
                if exc.errno == errno.EPIPE:  # the reader left (| head): nothing more to say
                    ctx.exit(EXIT_BROKEN_PIPE)
                click.echo(f"Error: cannot write the output: {exc.strerror or exc}", err=True)
                ctx.exit(EXIT_FAILED)
            click.echo(f"Error: unexpected {type(exc).__name__}: {exc}", err=True)
            click.echo("  hint: re-run with --debug to see where it happened", err=True)
            ctx.exit(EXIT_FAILED)


def _print_traceback() -> None:
    import traceback  # only with --debug: with linecache and tokenize, a tenth of --help's imports

    click.echo(traceback.format_exc(), err=True)


def _output_failed(exc: OSError) -> bool:
    """Whether ``exc`` came from writing the command's output (click.echo), not from a file."""
    import traceback

    frames = traceback.walk_tb(exc.__traceback__)
    return any(frame.f_code is click.utils.echo.__code__ for frame, _ in frames)


def _silence_stdout() -> None:
    # Python flushes stdout once more at exit; into /dev/null that flush cannot fail again.
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def _report(exc: HarborctlError) -> None:
    click.echo(f"Error: {exc.message}", err=True)
    if isinstance(exc, ConfigError):
        for problem in exc.problems:
            click.echo(f"  {problem}", err=True)
    if exc.hint:
        click.echo(f"  hint: {exc.hint}", err=True)


def version_line() -> str:
    """harborctl's version and the Harbor release(s) it deploys, from the release profiles."""
    from harborctl.plan.releases import PROFILES

    releases = ", ".join(profile.release for profile in PROFILES)
    return f"harborctl {__version__} (deploys Harbor {releases})"


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    # A callback, not click.version_option: the profiles are imported only when asked, so
    # `harborctl --help` does not pay for them.
    if not value or ctx.resilient_parsing:
        return
    click.echo(version_line())
    ctx.exit()


@click.group(cls=ErrorBoundary, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--version", is_flag=True, expose_value=False, is_eager=True,
              callback=_print_version,
              help="Show harborctl's version and the Harbor release it deploys.")
@click.option("--debug", is_flag=True, help="Show the traceback of an error.")
def cli(debug: bool) -> None:
    """Install and run a Harbor registry on this Docker host.

    \b
    Exit codes: 0 ok, 1 failed, 2 usage, 3 invalid config, 4 Docker unavailable,
    5 unhealthy, 6 certificate or filesystem problem, 7 busy, 8 archive not trusted,
    9 restore refused, 130 interrupted, 141 output pipe closed.
    """


register(cli)
