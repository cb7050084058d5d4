"""backup and restore of a Harbor 2.15 (harbor.yml) deployment on the fake engine, with https
and internal TLS on: every secret, key and certificate is in the archive and comes back byte for
byte; an archive of one release profile is refused for the other's config."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import harborctl.cli.ops_cmds as ops_cmds
import harborctl.prepare_v2 as prepare_v2_module
from harborctl.cli.app import cli
from harborctl.config.yml.sections import INTERNAL_CA, INTERNAL_TLS_PAIRS
from harborctl.engine.api.session import EngineSession
from harborctl.install import install
from harborctl.ops.backup import LIST_DATABASES, dump_scripts
from harborctl.ops.backup_format import Header
from harborctl.ops.backup_reader import Member, read_archive
from tests.unit.engine.fake_engine import FakeEngine
from tests.unit.ops.conftest import Deployment
from tests.unit.prepare_support import snapshot
from tests.unit.yml.test_prepare_v2 import write

pytest.importorskip("bcrypt")
pytestmark = pytest.mark.usefixtures("fast", "free_ports")

DUMP = b"-- registry of 2.15\n"
SECRETS = {"secretkey": "secret/keys/secretkey", "token_key_pem": "secret/core/private_key.pem",
           "token_cert_pem": "secret/registry/root.crt",
           **{n: f"secret/harborctl/{n}" for n in (
               "core_secret", "jobservice_secret", "registry_password", "registry_htpasswd",
               "csrf_key", "robot_prefix")}}
TLS_FILES = [INTERNAL_CA, *(f"{s}.{e}" for s in INTERNAL_TLS_PAIRS for e in ("crt", "key"))]


@dataclass
class Site2:
    yml: Path
    folder: Path
    engine: FakeEngine

    def run(self, *args: str, config: Path | None = None) -> Result:
        return CliRunner().invoke(cli, [*args, "-c", str(config or self.yml)])

    def kept(self) -> dict[str, bytes]:
        """Every secret, key and certificate file, by its archive name."""
        found = {f"secrets/{n}": (self.folder / "data" / p).read_bytes()
                 for n, p in SECRETS.items()}
        certs = self.folder / "certs"
        found.update({f"certs/{n}": (certs / n).read_bytes()
                      for n in ("server.crt", "server.key", "ca.crt", "ca.key")})
        found.update({f"certs/internal_tls/{n}": (self.folder / "tls" / n).read_bytes()
                      for n in TLS_FILES})
        return found


@pytest.fixture
def site2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Site2:
    real = prepare_v2_module.build_v2
    monkeypatch.setattr(prepare_v2_module, "build_v2",
                        lambda config, folder, _bits=0: real(config, folder, 2048))
    folder = tmp_path / "harbor2"
    folder.mkdir()
    path = write(folder, f"https:\n  port: 443\n  certificate: {folder}/certs/server.crt\n"
                         f"  private_key: {folder}/certs/server.key\n"
                         f"internal_tls:\n  enabled: true\n  dir: {folder}/tls\n")
    for flags in ([], ["--internal-tls"]):
        made = CliRunner().invoke(cli, ["gencert", *flags, "-c", str(path)])
        assert made.exit_code == 0, made.output
    engine = FakeEngine()
    engine.registry = "goharbor/"
    install(path, folder, lambda _: None, session=EngineSession(engine=engine), timeout=5)
    engine.exec_outputs[tuple(LIST_DATABASES)] = [b"postgres\nregistry\n"]
    scripts = dict(dump_scripts(["registry", "postgres"]))
    engine.exec_outputs[tuple(scripts["globals"])] = [b"ALTER ROLE postgres;\n"]
    engine.exec_outputs[tuple(scripts["postgres"])] = [b"-- postgres\n"]
    engine.exec_outputs[tuple(scripts["registry"])] = [DUMP]
    blob = folder / "data/registry/docker/registry/v2/blobs/sha256/cd/cdef"
    blob.mkdir(parents=True)
    (blob / "data").write_bytes(b"a 2.15 blob")
    monkeypatch.setattr(ops_cmds, "engine_session", lambda: EngineSession(engine=engine))
    return Site2(path, folder, engine)


def members(archive: Path) -> tuple[Header, dict[str, bytes]]:
    found: dict[str, bytes] = {}
    headers: list[Header] = []

    def visit(member: Member, chunks: Iterator[bytes]) -> None:
        found[member.name] = b"".join(chunks)

    read_archive(archive, None, visit, headers.append)
    return headers[0], found


def test_the_archive_holds_every_2_15_secret_key_and_certificate(site2: Site2,
                                                                 tmp_path: Path) -> None:
    archive = tmp_path / "b.tar"
    result = site2.run("backup", "-o", str(archive))
    assert result.exit_code == 0, result.output
    header, found = members(archive)
    assert header.harbor_release == "2.15.2" and header.components == {"trivy": False}
    assert found["config/harbor.yml"] == site2.yml.read_bytes()
    assert "config/harbor.cfg" not in found
    kept = site2.kept()
    assert len(kept) == len(SECRETS) + 4 + 13
    assert {name: found.get(name) for name in kept} == kept
    assert found["database/02-registry.sql.0000"] == DUMP
    assert found["data/registry/docker/registry/v2/blobs/sha256/cd/cdef/data"] == b"a 2.15 blob"


def test_restore_puts_every_2_15_file_back(site2: Site2, tmp_path: Path) -> None:
    archive = tmp_path / "b.tar"
    assert site2.run("backup", "-o", str(archive)).exit_code == 0
    kept = site2.kept()
    yml = site2.yml.read_bytes()
    for gone in ("data/secret", "data/registry", "tls", "certs"):
        shutil.rmtree(site2.folder / gone)
    site2.yml.unlink()
    restored = site2.run("restore", str(archive), "--force")  # the containers are there
    assert restored.exit_code == 0, restored.output
    assert "Put back harbor.yml, the state file, 9 secret(s) and 17 certificate file(s)" in \
        restored.output
    assert site2.kept() == kept and site2.yml.read_bytes() == yml
    assert (site2.folder / "data/registry/docker/registry/v2/blobs/sha256/cd/cdef/data"
            ).read_bytes() == b"a 2.15 blob"
    # prepare copied the restored internal TLS material into the data volume again
    assert (site2.folder / "data/secret/tls/core.key").read_bytes() == \
        kept["certs/internal_tls/core.key"]
    assert [bytes(i.data) for i in site2.engine.exec_inputs][1:] == [b"-- postgres\n", DUMP]


def test_a_2_15_archive_is_refused_for_a_harbor_cfg(site2: Site2, tmp_path: Path) -> None:
    archive = tmp_path / "b.tar"
    assert site2.run("backup", "-o", str(archive)).exit_code == 0
    other = tmp_path / "old" / "harbor.cfg"
    other.parent.mkdir()
    before = snapshot(tmp_path)
    refused = site2.run("restore", str(archive), config=other)
    assert refused.exit_code == 9, refused.output
    assert "a backup of a Harbor 2.15.2 deployment (a Harbor 2.x harbor.yml)" in refused.output
    assert f"-c {other} is a harbor.cfg" in refused.output
    assert "nothing was changed" in refused.output
    assert snapshot(tmp_path) == before


def test_a_1_7_archive_is_refused_for_a_harbor_yml(deployment: Deployment,
                                                  tmp_path: Path) -> None:
    deployment.engine.exec_outputs[tuple(LIST_DATABASES)] = [b"registry\n"]
    archive = tmp_path / "b.tar"
    made = deployment.run("backup", "-o", str(archive))
    assert made.exit_code == 0, made.output
    yml = tmp_path / "new" / "harbor.yml"
    refused = CliRunner().invoke(cli, ["restore", str(archive), "-c", str(yml)])
    assert refused.exit_code == 9, refused.output
    assert "Harbor 1.7.5 deployment (Harbor 1.7's harbor.cfg)" in refused.output
    assert "is a harbor.yml" in refused.output
    assert not (tmp_path / "new").exists()
