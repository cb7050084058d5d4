"""Shell completion: `harborctl completion bash|zsh|fish` prints the script that click's
completion mechanism answers (the shell runs harborctl with ``_HARBORCTL_COMPLETE`` set), and
the completer of service names, read from the project's docker-compose.yml."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:  # imported when completing only: every other command starts without it
    from click.shell_completion import CompletionItem

SHELLS = ("bash", "zsh", "fish")
COMPLETE_VAR = "_HARBORCTL_COMPLETE"  # what click derives from the program name


def complete_service(ctx: click.Context, _param: click.Parameter,
                     incomplete: str) -> list[CompletionItem]:
    """The compose file's services starting with ``incomplete``, in file order; none when the
    file cannot be read (completion must never print an error)."""
    from click.shell_completion import CompletionItem

    from harborctl.cli.options import project_dir
    from harborctl.engine.compose.loader import load_compose
    from harborctl.engine.compose.service_list import COMPOSE_NAME
    from harborctl.errors import HarborctlError

    config_path = ctx.params.get("config_path") or Path("harbor.cfg")
    folder = project_dir(Path(config_path), ctx.params.get("project_dir"))
    try:
        project = load_compose(folder / COMPOSE_NAME, None)
    except (HarborctlError, OSError, ValueError):
        return []
    chosen = set(ctx.params.get("services") or ())
    return [CompletionItem(service.name) for service in project.services
            if service.name.startswith(incomplete) and service.name not in chosen]


@click.command("completion")
@click.argument("shell", type=click.Choice(SHELLS))
def completion_command(shell: str) -> None:
    """Print the completion script for SHELL (commands, options, service names).

    \b
    bash:  eval "$(harborctl completion bash)"    in ~/.bashrc
    zsh:   eval "$(harborctl completion zsh)"     in ~/.zshrc
    fish:  harborctl completion fish > ~/.config/fish/completions/harborctl.fish
    """
    from click.shell_completion import get_completion_class

    root = click.get_current_context().find_root().command
    completion_class = get_completion_class(shell)
    assert completion_class is not None  # SHELLS are the ones click ships
    click.echo(completion_class(root, {}, "harborctl", COMPLETE_VAR).source())
