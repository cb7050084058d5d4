"""Internal TLS for Harbor 2.x: gencert --internal-tls makes what harbor.yml's internal_tls.dir
needs, validation refuses pairs that do not belong together."""

from __future__ import annotations

import shutil
import stat
from pathlib import Path

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from harborctl.cli.app import cli
from harborctl.config.yml import check_yml
from harborctl.internal_tls import LEAVES, make_internal_tls
from tests.cli_runner import cli_runner
from tests.unit.yml.support import DATA
from tests.unit.yml.test_yml_cli import VALID


def yml(tmp_path: Path, folder: Path) -> Path:
    path = tmp_path / "harbor.yml"
    path.write_text(VALID + f"internal_tls:\n  enabled: true\n  dir: {folder}\n")
    return path


def test_gencert_internal_tls_then_the_config_is_valid(tmp_path: Path) -> None:
    folder = tmp_path / "tls"
    path = yml(tmp_path, folder)
    assert check_yml(path).config is None  # nothing there yet
    made = cli_runner().invoke(cli, ["gencert", "--internal-tls", "-c", str(path)])
    assert made.exit_code == 0, made.output
    assert made.stdout.count("created ") == 2 + 2 * len(LEAVES)
    result = check_yml(path, with_trivy=True)
    assert result.config is not None, [p.format("harbor.yml") for p in result.problems]
    for stem, name in LEAVES.items():
        cert = x509.load_pem_x509_certificate((folder / f"{stem}.crt").read_bytes())
        assert cert.extensions.get_extension_for_class(
            x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName) == [name]
        usages = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        assert ExtendedKeyUsageOID.CLIENT_AUTH in usages
        assert stat.S_IMODE((folder / f"{stem}.key").stat().st_mode) == 0o600
    again = cli_runner().invoke(cli, ["gencert", "--internal-tls", "-c", str(path)])
    assert again.stdout.count("kept ") == 2 + 2 * len(LEAVES)
    forced = make_internal_tls(folder, force=True)
    assert {m.action for m in forced if "harbor_internal_ca" not in m.path.name} == {"replace"}


def test_a_pair_that_does_not_belong_together_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "tls"
    shutil.copytree(DATA / "internal-tls", folder)
    (folder / "core.key").write_bytes((folder / "portal.key").read_bytes())
    make_internal_tls(tmp_path / "other")
    (folder / "registry.crt").write_bytes((tmp_path / "other" / "registry.crt").read_bytes())
    result = check_yml(yml(tmp_path, folder))
    messages = [p.message for p in result.errors]
    assert messages[0] == f"{folder}/core.key is not the key of {folder}/core.crt"
    assert messages[1].startswith(f"{folder}/registry.crt: not a certificate of "
                                  "harbor_internal_ca.crt")
    assert [(p.key, p.line) for p in result.errors] == [("internal_tls.dir", 32)] * 2


def test_gencert_internal_tls_needs_a_folder(tmp_path: Path) -> None:
    path = tmp_path / "harbor.yml"
    path.write_text(VALID)
    result = cli_runner().invoke(cli, ["gencert", "--internal-tls", "-c", str(path)])
    assert result.exit_code == 3 and "internal_tls.dir: missing" in result.stderr
    out = cli_runner().invoke(cli, ["gencert", "--internal-tls", "--out", str(tmp_path / "x")])
    assert out.exit_code == 0 and (tmp_path / "x" / "core.crt").is_file()
