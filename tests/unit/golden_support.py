"""Golden trees: what a rendered tree is compared with, rewritten by ``--update-golden``."""

from __future__ import annotations

from pathlib import Path

import pytest


def golden_tree(folder: Path, files: dict[str, bytes], request: pytest.FixtureRequest
                ) -> dict[str, bytes]:
    """The files of the golden tree ``folder`` by relative name; with ``--update-golden`` the
    tree is first replaced by ``files``."""
    if request.config.getoption("--update-golden"):
        for old in sorted(folder.rglob("*"), reverse=True) if folder.exists() else []:
            old.unlink() if old.is_file() else old.rmdir()
        for name, content in files.items():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_bytes(content)
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}
