"""prepare killed after every step of the apply: the next run leaves the old or the new tree,
whole, with no staging copy of a secret left and the compose file agreeing with the state."""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path

import pytest

from harborctl.cli import main
from harborctl.files.journal import EXIT_AFTER_RENAME_ENV, recover
from tests.unit.prepare_support import prepare_file as prepare
from tests.unit.prepare_support import write_config

BITS = 2048
KILLED = 70
IGNORED = {"harbor.cfg", ".harborctl.lock"}


def tree(root: Path) -> dict[str, tuple[bytes, int]]:
    return {str(p.relative_to(root)): (p.read_bytes(), p.stat().st_mode & 0o7777)
            for p in sorted(root.rglob("*")) if p.is_file() and p.name not in IGNORED}


def staging_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.name.endswith(".harborctl-new")
            or p.name.startswith(".harborctl-apply")]


def prepare_killed_after(cfg: Path, steps: int) -> int:
    """`harborctl prepare` in a forked child that the hook ends after ``steps`` steps, as a
    kill would (os._exit: no cleanup, no flush). A fork, not a new interpreter: the child starts
    with harborctl already imported, which makes each kill ~10x cheaper than a subprocess."""
    with warnings.catch_warnings():
        # Python 3.12+ warns about fork() while pytest's helper threads of other tests live;
        # the child only runs prepare and ends with os._exit, it never waits on their locks.
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 1
        try:
            os.environ[EXIT_AFTER_RENAME_ENV] = str(steps)
            # pytest's capture files are shared with the parent: the child writes elsewhere
            sys.stdout = sys.stderr = open(os.devnull, "w")  # noqa: SIM115
            main(["prepare", "-c", str(cfg)])
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


@pytest.mark.long
def test_a_kill_at_every_step_leaves_the_old_or_the_new_tree(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, extra="with_chartmuseum = on\n")
    old_text = cfg.read_text()
    # many files change, one is removed, and docker-compose.yml changes with the state file
    new_text = (old_text.replace("db-pass-1", "db-pass-2").replace("with_chartmuseum = on",
                                                                  "with_chartmuseum = off")
                + "http_port = 8081\nmax_job_workers = 3\n")
    prepare(cfg, tmp_path, token_bits=BITS)
    old_tree = tree(tmp_path)
    cfg.write_text(new_text)
    prepare(cfg, tmp_path, token_bits=BITS)
    new_tree = tree(tmp_path)
    assert new_tree != old_tree
    outcomes = []
    for steps in range(1, 100):
        cfg.write_text(old_text)
        prepare(cfg, tmp_path, token_bits=BITS)
        assert tree(tmp_path) == old_tree
        cfg.write_text(new_text)
        code = prepare_killed_after(cfg, steps)
        if code == 0:
            break  # past the last step: nothing was killed
        assert code == KILLED, steps
        recover(tmp_path)  # what the next prepare does first
        after = tree(tmp_path)
        assert after in (old_tree, new_tree), f"mixed tree after a kill at step {steps}"
        assert staging_files(tmp_path) == [], steps
        outcomes.append(after == new_tree)
        result = prepare(cfg, tmp_path, token_bits=BITS)
        assert tree(tmp_path) == new_tree
        assert not [w for w in result.warnings if "edited by hand" in w], steps
    assert len(outcomes) >= 10 and True in outcomes and False in outcomes, outcomes

