"""How results are shown to the operator."""

from __future__ import annotations

import click

from harborctl.prepare import PrepareResult, components_summary


def print_prepare(result: PrepareResult) -> None:
    stdout, stderr = prepare_output(result)
    click.echo(stdout, nl=False)
    if stderr:
        click.echo(stderr, err=True, nl=False)


def prepare_output(result: PrepareResult) -> tuple[str, str]:
    """What prepare prints: (stdout, stderr), each empty or ending with a line break."""
    deployment = result.deployment
    out = [f"component {name}: on ({why})\n" for name, why in sorted(result.enabled_by.items())]
    if result.dry_run:
        out.append(result.diff)
        verb = "would change"
    else:
        verb = "changed"
    out += [f"created secret: {secret}\n" for secret in result.created_secrets]
    if result.changes:
        out.append(f"{len(result.changes)} file(s) {verb}:\n")
        out += [f"  {change.kind:6} {_relative(change.path, deployment.project_dir)}\n"
                for change in result.changes]
    else:
        out.append("nothing changed: the deployment already matches harbor.cfg\n")
    out.append(f"services: {', '.join(deployment.services)}\n")
    out.append(f"optional components: {components_summary(deployment.components)}\n")
    return "".join(out), "".join(f"{warning}\n" for warning in result.warnings)


def _relative(path: object, root: object) -> str:
    text, base = str(path), str(root).rstrip("/") + "/"
    return text[len(base):] if text.startswith(base) else text
