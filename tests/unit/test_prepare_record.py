"""A plain `harborctl prepare` that would change nothing answers from the record of the last
one (harborctl/prepare_record.py), and any change of any input makes the full prepare run."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from harborctl import prepare_record
from harborctl.cli import main, quick_prepare
from harborctl.files import lock
from harborctl.prepare_record import RECORD_NAME
from tests.unit.prepare_support import write_config

NOTHING = "nothing changed: the deployment already matches harbor.cfg"


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """`harborctl ARGS` in this process, as the command line runs it (through main)."""
    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.chdir(tmp_path)
    write_config(tmp_path, extra="with_chartmuseum = on\n")
    yield tmp_path


@pytest.fixture
def recorded(project: Path, capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    """A project prepared, then prepared again with nothing to change: the record is written."""
    assert run(["prepare"], capsys)[0] == 0
    assert not (project / RECORD_NAME).exists()  # that run changed everything: no record
    code, out, err = run(["prepare"], capsys)
    assert code == 0 and NOTHING in out
    assert (project / RECORD_NAME).stat().st_mode & 0o777 == 0o600
    return out, err


def replayed(project: Path, args: list[str] | None = None) -> tuple[str, str] | None:
    return prepare_record.replay(str(project), args or [], str(project), time.time())


def test_a_rerun_answers_from_the_record_exactly_as_the_full_prepare(
        project: Path, recorded: tuple[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    assert replayed(project) == recorded
    assert run(["prepare"], capsys) == (0, *recorded)


def test_the_quick_prepare_imports_no_validator_jinja_click_or_cryptography(
        project: Path, recorded: tuple[str, str]) -> None:
    code = ("import sys; from harborctl.cli import main\n"
            "try:\n    main(['prepare'])\nexcept SystemExit as exc:\n    code = exc.code\n"
            "heavy = [m for m in ('click', 'jinja2', 'cryptography', 'yaml', 'harborctl.config',"
            " 'harborctl.plan') if m in sys.modules]\n"
            "print('HEAVY', heavy, code, file=sys.stderr)")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    done = subprocess.run([sys.executable, "-c", code], cwd=project, env=env,
                          capture_output=True, text=True, check=True)
    assert done.stdout == recorded[0]
    assert done.stderr == recorded[1] + "HEAVY [] 0\n"


def _edit_cfg(project: Path) -> None:
    with (project / "harbor.cfg").open("a") as cfg:
        cfg.write("max_job_workers = 7\n")


def _edit_rendered(project: Path) -> None:
    (project / "common/config/core/app.conf").write_text("edited by hand\n")


def _chmod_rendered(project: Path) -> None:
    os.chmod(project / "common/config/registry/config.yml", 0o666)


def _remove_secret(project: Path) -> None:
    (project / "data/secret/harborctl/core_secret").unlink()


def _link_secret(project: Path) -> None:
    secret = project / "data/secret/harborctl/core_secret"
    (project / "elsewhere").write_bytes(secret.read_bytes())
    secret.unlink()
    secret.symlink_to(project / "elsewhere")


def _operator_file(project: Path) -> None:
    (project / "common/config/nginx/mine.conf").write_text("# the operator's\n")


def _staging_leftover(project: Path) -> None:
    (project / "data/secret/harborctl/.core_secret.abcdefgh").write_text("half a secret")


def _journal(project: Path) -> None:
    (project / ".harborctl-apply.json").write_text("{}")


def _chmod_folder(project: Path) -> None:
    os.chmod(project / "data/secret", 0o755)


def _edit_state(project: Path) -> None:
    state = project / "common/config/harborctl.json"
    state.write_text(state.read_text().replace('"chartmuseum": true', '"chartmuseum": false'))


Check = Callable[[Path, int, str, str], bool]

CHANGES: list[tuple[Callable[[Path], None], Check]] = [
    (_edit_cfg, lambda p, code, out, err: "file(s) changed" in out),
    (_edit_rendered,
     lambda p, *_: "edited" not in (p / "common/config/core/app.conf").read_text()),
    (_chmod_rendered,
     lambda p, *_: (p / "common/config/registry/config.yml").stat().st_mode & 0o777 == 0o600),
    (_remove_secret, lambda p, code, out, err: "created secret: core_secret" in out),
    (_link_secret, lambda p, *_: not (p / "data/secret/harborctl/core_secret").is_symlink()),
    (_operator_file, lambda p, code, out, err: "mine.conf was not written by harborctl" in err),
    (_staging_leftover,
     lambda p, *_: not (p / "data/secret/harborctl/.core_secret.abcdefgh").exists()),
    (_journal, lambda p, code, out, err: code != 0 and ".harborctl-apply.json" in err),
    (_chmod_folder, lambda p, *_: (p / "data/secret").stat().st_mode & 0o777 == 0o700),
    (_edit_state, lambda p, code, out, err: "update common/config/harborctl.json" in out),
]


@pytest.mark.parametrize(("change", "full_prepare_ran"), CHANGES,
                         ids=[change.__name__ for change, _ in CHANGES])
def test_any_change_of_an_input_runs_the_full_prepare(
        project: Path, recorded: tuple[str, str], change: Callable[[Path], None],
        full_prepare_ran: Check, capsys: pytest.CaptureFixture[str]) -> None:
    change(project)
    assert replayed(project) is None
    code, out, err = run(["prepare"], capsys)
    assert full_prepare_ran(project, code, out, err), (code, out, err)
    if code == 0:  # what it wrote or repaired is recorded by the next run that changes nothing
        assert run(["prepare"], capsys)[0] == 0
        assert replayed(project) is not None


def test_a_file_validation_read_is_an_input(project: Path, capsys: pytest.CaptureFixture[str]
                                            ) -> None:
    bundle = project / "ca-bundle.pem"
    bundle.write_bytes((Path(__file__).parent / "data" / "example-ca.pem").read_bytes())
    with (project / "harbor.cfg").open("a") as cfg:
        cfg.write(f"registry_custom_ca_bundle = {bundle}\n")
    run(["prepare"], capsys)
    run(["prepare"], capsys)
    assert replayed(project) is not None
    bundle.write_bytes(bundle.read_bytes() + b"\n")
    assert replayed(project) is None


def test_other_options_another_folder_or_a_new_code_run_the_full_prepare(
        project: Path, recorded: tuple[str, str], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    assert replayed(project, ["-c", "harbor.cfg"]) is None  # another command line
    assert prepare_record.replay(str(project), [], "/", time.time()) is None  # another folder
    assert quick_prepare.parse_prepare_args(["--dry-run"]) is None
    assert quick_prepare.parse_prepare_args(["--with-clair"]) is None
    assert quick_prepare.parse_prepare_args(["-c"]) is None
    assert quick_prepare.parse_prepare_args(["--config=", "x"]) is None
    assert quick_prepare.parse_prepare_args(["-c", "a", "--project-dir=b"]) == {
        "config": "a", "project_dir": "b"}
    code, out, err = run(["prepare", "--dry-run"], capsys)
    assert code == 0 and "would change" not in out and NOTHING in out
    monkeypatch.setattr(prepare_record, "code_digest", lambda: "another harborctl")
    assert replayed(project) is None


def test_a_record_anyone_else_could_write_is_ignored(project: Path,
                                                    recorded: tuple[str, str]) -> None:
    os.chmod(project / RECORD_NAME, 0o622)
    assert replayed(project) is None
    os.chmod(project / RECORD_NAME, 0o600)
    assert replayed(project) == recorded
    os.chown(project / RECORD_NAME, 4242, 4242)
    assert replayed(project) is None


def test_a_certificate_near_its_end_runs_the_full_prepare(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    cert = tmp_path / "cert"
    write_config(tmp_path, extra=f"ui_url_protocol = https\nssl_cert = {cert}/server.crt\n"
                                 f"ssl_cert_key = {cert}/server.key\n")
    assert run(["gencert"], capsys)[0] == 0
    run(["prepare"], capsys)
    run(["prepare"], capsys)
    days = 86400
    assert prepare_record.replay(str(tmp_path), [], str(tmp_path), time.time()) is not None
    # gencert's certificate lasts 364 days; 30 days before its end, prepare warns
    assert prepare_record.replay(str(tmp_path), [], str(tmp_path),
                                 time.time() + 340 * days) is None
    assert prepare_record.replay(str(tmp_path), [], str(tmp_path), time.time() - days) is None
    (cert / "ca.crt").write_bytes(b"")  # the CA beside the certificate is read by the checks
    assert prepare_record.replay(str(tmp_path), [], str(tmp_path), time.time()) is None


@pytest.mark.usefixtures("fast", "free_ports")
def test_an_install_with_nothing_to_prepare_renders_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from harborctl import install as install_module
    from harborctl import prepare as prepare_module
    from harborctl.engine.api.session import EngineSession
    from tests.unit.engine.fake_engine import FakeEngine

    engine = FakeEngine()
    engine.registry = "goharbor/"
    cfg = write_config(tmp_path, extra="max_job_workers = 3\n")
    builds: list[str] = []
    real_build = prepare_module.build

    def counted_build(*args: object, **kwargs: object) -> prepare_module.Built:
        builds.append("build")
        return real_build(*args, token_bits=2048, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(prepare_module, "build", counted_build)

    def install(report: list[str]) -> install_module.InstallResult:
        return install_module.install(cfg, tmp_path, report.append, timeout=5,
                                      session=EngineSession(engine=engine))

    install([])  # creates everything: nothing to record
    second: list[str] = []
    warnings = install(second).warnings
    assert len(builds) == 2 and (tmp_path / RECORD_NAME).exists()
    third: list[str] = []
    result = install(third)
    assert len(builds) == 2, "answered from the record: nothing rendered"
    assert result.prepared is None and result.warnings == warnings
    assert third == second  # the operator sees the same install
    assert {a.kind for a in result.converged.actions} == {"noop"}

    os.chmod(tmp_path / "common/config/core/env", 0o644)  # any change: the full prepare step
    fourth: list[str] = []
    result = install(fourth)
    assert len(builds) == 3 and "  1 file(s) changed" in fourth
    assert (tmp_path / "common/config/core/env").stat().st_mode & 0o777 == 0o600
    install([])  # repaired: the disk is again what the record saw
    assert len(builds) == 3
    cfg.write_text(cfg.read_text().replace("max_job_workers = 3", "max_job_workers = 4"))
    install([])
    assert len(builds) == 4
    install_module.install(cfg, tmp_path, [].append, flags={"chartmuseum": True}, timeout=5,
                           session=EngineSession(engine=engine))
    assert len(builds) == 5, "a component flag always prepares"


def test_the_lock_files_do_not_count_as_a_change_of_the_project_folder() -> None:
    # prepare_record names them itself (it stays light); files/lock.py is where they are made
    assert {lock.LOCK_NAME, lock.OPERATION_LOCK_NAME} <= prepare_record.UNLISTED
