"""tls/checking.py: each check triggered by a crafted bad certificate, with its exact message."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from harborctl.errors import CertificateError
from harborctl.tls.checking import CertProblem, check_server_certificate, problems_error

NOW = dt.datetime(2030, 6, 1, 12, 0, tzinfo=dt.timezone.utc)
DAY = dt.timedelta(days=1)
OPENSSL = shutil.which("openssl")


@dataclass(frozen=True)
class Issued:
    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    @property
    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def key_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )


def issue(
    cn: str | None,
    issuer: Issued | None = None,
    *,
    dns: tuple[str, ...] = (),
    ips: tuple[str, ...] = (),
    ca: bool = False,
    not_before: dt.datetime = NOW - 30 * DAY,
    not_after: dt.datetime = NOW + 300 * DAY,
    key: ec.EllipticCurvePrivateKey | None = None,
) -> Issued:
    """A certificate made directly with cryptography, independent of harborctl.tls.making."""
    import ipaddress

    key = key or ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)] if cn else [])
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.cert.subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if not ca:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
    names: list[x509.GeneralName] = [x509.DNSName(name) for name in dns]
    names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ips]
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    signer = issuer.key if issuer else key
    return Issued(builder.sign(signer, hashes.SHA256()), key)


@pytest.fixture(scope="module")
def root() -> Issued:
    return issue("Test Root CA", ca=True, not_after=NOW + 3000 * DAY)


@pytest.fixture(scope="module")
def intermediate(root: Issued) -> Issued:
    return issue("Test Intermediate CA", root, ca=True)


@pytest.fixture(scope="module")
def leaf(root: Issued) -> Issued:
    return issue("reg.example.com", root, dns=("reg.example.com",), ips=("10.0.0.5",))


def put(folder: Path, cert_pem: bytes, key_pem: bytes, key_mode: int = 0o600) -> tuple[Path, Path]:
    cert_path, key_path = folder / "server.crt", folder / "server.key"
    cert_path.write_bytes(cert_pem)
    key_path.write_bytes(key_pem)
    os.chmod(key_path, key_mode)
    return cert_path, key_path


def check(
    folder: Path,
    cert_pem: bytes,
    key_pem: bytes,
    hostname: str = "reg.example.com",
    ca: Issued | None = None,
    key_mode: int = 0o600,
) -> tuple[list[CertProblem], Path, Path]:
    cert_path, key_path = put(folder, cert_pem, key_pem, key_mode)
    ca_path = None
    if ca is not None:
        ca_path = folder / "trusted-ca.pem"
        ca_path.write_bytes(ca.cert_pem)
    return (
        check_server_certificate(cert_path, key_path, hostname, NOW, ca_path),
        cert_path,
        key_path,
    )


def messages(problems: list[CertProblem]) -> list[tuple[str, str]]:
    return [(problem.severity, problem.message) for problem in problems]


# ------------------------------------------------------------------------------------------


def test_a_good_certificate_has_no_problem(tmp_path: Path, root: Issued, leaf: Issued) -> None:
    problems, _, _ = check(tmp_path, leaf.cert_pem, leaf.key_pem, ca=root)
    assert problems == []


def test_ca_crt_next_to_the_certificate_is_used_as_issuer(
    tmp_path: Path, root: Issued, leaf: Issued
) -> None:
    (tmp_path / "ca.crt").write_bytes(root.cert_pem)
    problems, _, _ = check(tmp_path, leaf.cert_pem, leaf.key_pem)
    assert problems == []


def test_wrong_key(tmp_path: Path, root: Issued, leaf: Issued) -> None:
    other = issue("reg.example.com", root, dns=("reg.example.com",))
    problems, cert_path, key_path = check(tmp_path, leaf.cert_pem, other.key_pem, ca=root)
    assert problems == [
        CertProblem(
            "error",
            key_path,
            f"the private key in {key_path} does not belong to the certificate in {cert_path}: "
            "use the key that was created together with this certificate, or issue a new "
            "certificate for this key",
        )
    ]


def test_certificates_in_the_wrong_order(tmp_path: Path, root: Issued, leaf: Issued) -> None:
    problems, cert_path, key_path = check(
        tmp_path, root.cert_pem + leaf.cert_pem, leaf.key_pem, ca=root
    )
    assert problems[0] == CertProblem(
        "error",
        cert_path,
        f"the certificates in {cert_path} are in the wrong order: the private key in {key_path} "
        "belongs to certificate number 2 ('CN=reg.example.com') but nginx serves the first "
        "one; put the server certificate first, followed by its intermediates",
    )


def test_wrong_host(tmp_path: Path, root: Issued, leaf: Issued) -> None:
    problems, cert_path, _ = check(tmp_path, leaf.cert_pem, leaf.key_pem, "other.example.com", root)
    assert problems == [
        CertProblem(
            "error",
            cert_path,
            f"the certificate in {cert_path} does not cover the host name 'other.example.com': "
            "it is valid for DNS:reg.example.com, IP:10.0.0.5; issue it again with "
            "DNS:other.example.com in its subjectAltName",
            "'harborctl gencert' creates a certificate with the right subjectAltName",
        )
    ]


@pytest.mark.parametrize("hostname", ["reg.example.com:8443", "REG.example.com.", "10.0.0.5"])
def test_host_forms_that_are_covered(
    tmp_path: Path, root: Issued, leaf: Issued, hostname: str
) -> None:
    problems, _, _ = check(tmp_path, leaf.cert_pem, leaf.key_pem, hostname, root)
    assert problems == []


def test_an_ip_host_needs_an_ip_san(tmp_path: Path, root: Issued, leaf: Issued) -> None:
    problems, cert_path, _ = check(tmp_path, leaf.cert_pem, leaf.key_pem, "10.0.0.6:443", root)
    assert messages(problems) == [
        (
            "error",
            f"the certificate in {cert_path} does not cover the host name '10.0.0.6': it is "
            "valid for DNS:reg.example.com, IP:10.0.0.5; issue it again with IP:10.0.0.6 in "
            "its subjectAltName",
        )
    ]


def test_common_name_alone_is_not_accepted(tmp_path: Path, root: Issued) -> None:
    cn_only = issue("reg.example.com", root)
    problems, cert_path, _ = check(tmp_path, cn_only.cert_pem, cn_only.key_pem, ca=root)
    assert messages(problems) == [
        (
            "error",
            f"the certificate in {cert_path} names 'reg.example.com' only in its common name "
            "(CN=reg.example.com), which Docker and other Go clients ignore since Go 1.15: "
            "issue it again with DNS:reg.example.com in its subjectAltName",
        )
    ]


def test_no_san_and_another_cn(tmp_path: Path, root: Issued) -> None:
    bare = issue("something.else", root)
    problems, cert_path, _ = check(tmp_path, bare.cert_pem, bare.key_pem, ca=root)
    assert messages(problems) == [
        (
            "error",
            f"the certificate in {cert_path} does not cover the host name 'reg.example.com': it "
            "is valid for no subjectAltName at all; issue it again with DNS:reg.example.com in "
            "its subjectAltName",
        )
    ]


WILDCARD_NOTE = (
    " (a wildcard stands for exactly one label: '*.example.com' covers 'a.example.com' but "
    "neither 'example.com' nor 'a.b.example.com')"
)


@pytest.mark.parametrize(
    ("hostname", "covered"),
    [("a.example.com", True), ("example.com", False), ("a.b.example.com", False)],
)
def test_wildcards(tmp_path: Path, root: Issued, hostname: str, covered: bool) -> None:
    wild = issue("*.example.com", root, dns=("*.example.com",))
    problems, cert_path, _ = check(tmp_path, wild.cert_pem, wild.key_pem, hostname, root)
    if covered:
        assert problems == []
    else:
        assert messages(problems) == [
            (
                "error",
                f"the certificate in {cert_path} does not cover the host name '{hostname}': it "
                f"is valid for DNS:*.example.com; issue it again with DNS:{hostname} in its "
                "subjectAltName" + WILDCARD_NOTE,
            )
        ]


def test_expired(tmp_path: Path, root: Issued) -> None:
    old = issue(
        "reg.example.com",
        root,
        dns=("reg.example.com",),
        not_before=NOW - 400 * DAY,
        not_after=NOW - 35 * DAY,
    )
    problems, cert_path, _ = check(tmp_path, old.cert_pem, old.key_pem, ca=root)
    assert problems == [
        CertProblem(
            "error",
            cert_path,
            f"the certificate in {cert_path} expired on 2030-04-27 12:00 UTC (35 days ago): "
            "renew it",
            "'harborctl gencert --force' issues a new server certificate from your own CA",
        )
    ]


def test_expiring_soon_is_a_warning(tmp_path: Path, root: Issued) -> None:
    ends = NOW + 10 * DAY + dt.timedelta(hours=1)
    soon = issue("reg.example.com", root, dns=("reg.example.com",), not_after=ends)
    problems, cert_path, _ = check(tmp_path, soon.cert_pem, soon.key_pem, ca=root)
    assert messages(problems) == [
        (
            "warning",
            f"the certificate in {cert_path} expires on 2030-06-11 13:00 UTC, in 10 days: "
            "renew it before then",
        )
    ]


def test_expiring_within_a_day(tmp_path: Path, root: Issued) -> None:
    soon = issue("reg.example.com", root, dns=("reg.example.com",), not_after=NOW + DAY / 2)
    problems, cert_path, _ = check(tmp_path, soon.cert_pem, soon.key_pem, ca=root)
    assert messages(problems) == [
        (
            "warning",
            f"the certificate in {cert_path} expires on 2030-06-02 00:00 UTC, in less than a "
            "day: renew it before then",
        )
    ]


def test_not_yet_valid(tmp_path: Path, root: Issued) -> None:
    future = issue("reg.example.com", root, dns=("reg.example.com",), not_before=NOW + 2 * DAY)
    problems, cert_path, _ = check(tmp_path, future.cert_pem, future.key_pem, ca=root)
    assert messages(problems) == [
        (
            "error",
            f"the certificate in {cert_path} is not valid before 2030-06-03 12:00 UTC: check the "
            "clock of this host (date -u) or wait until then",
        )
    ]


# ------------------------------------------------------------------------------------------
# chain


@pytest.fixture(scope="module")
def chained(intermediate: Issued) -> Issued:
    return issue("reg.example.com", intermediate, dns=("reg.example.com",))


def test_missing_intermediate(tmp_path: Path, root: Issued, chained: Issued) -> None:
    problems, cert_path, _ = check(tmp_path, chained.cert_pem, chained.key_pem, ca=root)
    assert problems == [
        CertProblem(
            "error",
            cert_path,
            f"the certificate in {cert_path} was issued by 'CN=Test Intermediate CA' but that "
            "intermediate is not in the file: append it after the server certificate",
            "if 'CN=Test Intermediate CA' is your own root CA, give it as the CA file (or put "
            f"it as ca.crt next to {cert_path}) instead",
        )
    ]


def test_complete_chain(
    tmp_path: Path, root: Issued, intermediate: Issued, chained: Issued
) -> None:
    bundle = chained.cert_pem + intermediate.cert_pem
    assert check(tmp_path, bundle, chained.key_pem, ca=root)[0] == []
    # without a CA file the root is taken to be one the clients already trust
    assert check(tmp_path, bundle, chained.key_pem)[0] == []
    # the root in the file as well is fine
    assert check(tmp_path, bundle + root.cert_pem, chained.key_pem, ca=root)[0] == []


def test_chain_that_stops_before_the_given_ca(
    tmp_path: Path, intermediate: Issued, chained: Issued
) -> None:
    unrelated = issue("Unrelated CA", ca=True)
    bundle = chained.cert_pem + intermediate.cert_pem
    problems, cert_path, _ = check(tmp_path, bundle, chained.key_pem, ca=unrelated)
    assert messages(problems) == [
        (
            "error",
            f"the chain in {cert_path} stops at 'CN=Test Intermediate CA', issued by "
            f"'CN=Test Root CA', which is neither in the file nor in {tmp_path / 'trusted-ca.pem'}"
            ": append that certificate to the file",
        )
    ]


def test_self_signed_certificate_not_from_the_given_ca(tmp_path: Path, root: Issued) -> None:
    own = issue("reg.example.com", dns=("reg.example.com",))
    problems, cert_path, _ = check(tmp_path, own.cert_pem, own.key_pem, ca=root)
    assert messages(problems) == [
        (
            "error",
            f"the certificate in {cert_path} was not issued by the CA in "
            f"{tmp_path / 'trusted-ca.pem'} ('CN=Test Root CA'): clients that trust only that CA "
            "will reject it; issue the server certificate from that CA, or give the CA that "
            "issued it",
        )
    ]


def test_self_signed_certificate_alone_is_accepted(tmp_path: Path) -> None:
    own = issue("reg.example.com", dns=("reg.example.com",))
    assert check(tmp_path, own.cert_pem, own.key_pem)[0] == []


def test_wrong_intermediate_with_the_right_name(
    tmp_path: Path, root: Issued, chained: Issued
) -> None:
    impostor = issue("Test Intermediate CA", root, ca=True)
    problems, cert_path, _ = check(
        tmp_path, chained.cert_pem + impostor.cert_pem, chained.key_pem, ca=root
    )
    assert messages(problems) == [
        (
            "error",
            f"the certificate 'CN=reg.example.com' in {cert_path} was issued by "
            "'CN=Test Intermediate CA', but the 'CN=Test Intermediate CA' certificate given has "
            "a different key and did not sign it: replace it with the certificate that really "
            "issued it",
        )
    ]


def test_expired_intermediate(tmp_path: Path, root: Issued) -> None:
    old_intermediate = issue(
        "Old Intermediate", root, ca=True, not_before=NOW - 900 * DAY, not_after=NOW - DAY
    )
    cert = issue("reg.example.com", old_intermediate, dns=("reg.example.com",))
    problems, cert_path, _ = check(
        tmp_path, cert.cert_pem + old_intermediate.cert_pem, cert.key_pem, ca=root
    )
    assert messages(problems) == [
        (
            "error",
            f"the intermediate certificate 'CN=Old Intermediate' in {cert_path} expired on "
            "2030-05-31 12:00 UTC (1 day ago): replace it with the current one from your CA",
        )
    ]


# ------------------------------------------------------------------------------------------
# key file permissions


@pytest.mark.parametrize(
    ("mode", "readers"),
    [
        (0o644, "its group and all users"),
        (0o640, "its group"),
        (0o604, "all users"),
        (0o600, None),
        (0o400, None),
    ],
)
def test_key_readable_by_others(
    tmp_path: Path, root: Issued, leaf: Issued, mode: int, readers: str | None
) -> None:
    problems, _, key_path = check(tmp_path, leaf.cert_pem, leaf.key_pem, ca=root, key_mode=mode)
    if readers is None:
        assert problems == []
        return
    assert problems == [
        CertProblem(
            "warning",
            key_path,
            f"the private key file {key_path} is readable by {readers} (mode {mode:04o}): anyone "
            f"who can read it can impersonate the registry; run 'chmod 600 {key_path}'",
            f"chmod 600 {key_path}",
        )
    ]


# ------------------------------------------------------------------------------------------
# unreadable and malformed files


def test_missing_files(tmp_path: Path) -> None:
    cert_path, key_path = tmp_path / "nope.crt", tmp_path / "nope.key"
    problems = check_server_certificate(cert_path, key_path, "reg.example.com", NOW)
    assert messages(problems) == [
        (
            "error",
            f"the certificate file {cert_path} does not exist: point ssl_cert in harbor.cfg at "
            "it, or create one with 'harborctl gencert'",
        ),
        (
            "error",
            f"the private key file {key_path} does not exist: point ssl_cert_key in harbor.cfg "
            "at it, or create one with 'harborctl gencert'",
        ),
    ]


def test_a_folder_instead_of_a_file(tmp_path: Path, leaf: Issued) -> None:
    (tmp_path / "k").write_bytes(leaf.key_pem)
    os.chmod(tmp_path / "k", 0o600)
    problems = check_server_certificate(tmp_path, tmp_path / "k", "reg.example.com", NOW)
    assert messages(problems) == [
        (
            "error",
            f"the certificate file {tmp_path} is a folder, not a file: point ssl_cert in "
            "harbor.cfg at the file itself",
        )
    ]


def test_unreadable_file(
    tmp_path: Path, root: Issued, leaf: Issued, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert_path, key_path = put(tmp_path, leaf.cert_pem, leaf.key_pem, key_mode=0o000)
    real_read_bytes = Path.read_bytes

    def read_bytes(path: Path) -> bytes:
        if path == key_path:  # root reads anything: simulate what another user gets
            raise PermissionError(13, "Permission denied", str(path))
        return real_read_bytes(path)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    problems = check_server_certificate(cert_path, key_path, "reg.example.com", NOW)
    assert messages(problems)[0] == (
        "error",
        f"cannot read the private key file {key_path} (Permission denied): make it readable by "
        "the user running harborctl",
    )


def test_non_pem_files(tmp_path: Path) -> None:
    problems, cert_path, key_path = check(tmp_path, b"hello\n", b"world\n")
    assert messages(problems) == [
        (
            "error",
            f"the certificate file {cert_path} does not contain a PEM certificate (a block "
            "starting with '-----BEGIN CERTIFICATE-----')",
        )
    ]
    problems, cert_path, key_path = check(tmp_path, issue("x").cert_pem, b"world\n")
    assert problems[0] == CertProblem(
        "error",
        key_path,
        f"the private key file {key_path} does not contain a PEM private key (a block starting "
        "with '-----BEGIN ... PRIVATE KEY-----')",
    )


def test_der_certificate(tmp_path: Path, leaf: Issued) -> None:
    der = leaf.cert.public_bytes(serialization.Encoding.DER)
    problems, cert_path, _ = check(tmp_path, der, leaf.key_pem)
    assert problems == [
        CertProblem(
            "error",
            cert_path,
            f"the certificate file {cert_path} is a binary (DER) certificate, not PEM",
            "convert it: openssl x509 -inform der -in FILE -out FILE.pem",
        )
    ]


def test_encrypted_key(tmp_path: Path, root: Issued, leaf: Issued) -> None:
    encrypted = leaf.key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"pw"),
    )
    problems, _, key_path = check(tmp_path, leaf.cert_pem, encrypted, ca=root)
    assert problems == [
        CertProblem(
            "error",
            key_path,
            f"the private key file {key_path} is protected by a passphrase, which nginx cannot "
            "ask for",
            "write an unencrypted copy: openssl pkey -in KEY -out KEY.plain",
        )
    ]


def test_unreadable_ca_file(tmp_path: Path, leaf: Issued) -> None:
    cert_path, key_path = put(tmp_path, leaf.cert_pem, leaf.key_pem)
    missing = tmp_path / "missing-ca.crt"
    problems = check_server_certificate(cert_path, key_path, "reg.example.com", NOW, missing)
    assert messages(problems)[0] == (
        "error",
        f"the CA certificate file {missing} does not exist: give the path of the CA that issued "
        "the server certificate",
    )


def test_bad_hostname_argument(tmp_path: Path, root: Issued, leaf: Issued) -> None:
    problems, cert_path, _ = check(tmp_path, leaf.cert_pem, leaf.key_pem, "reg:https", root)
    assert messages(problems) == [
        (
            "error",
            "cannot check the host name: 'reg:https' is not a valid host[:port]: the port must "
            "be a number",
        )
    ]


@pytest.mark.skipif(OPENSSL is None, reason="the openssl binary is not installed")
def test_sha1_signature_is_an_error(tmp_path: Path) -> None:
    assert OPENSSL is not None

    def run(*args: str, stdin: bytes | None = None) -> bytes:
        result = subprocess.run(
            [OPENSSL, *args], input=stdin, capture_output=True, check=True, cwd=tmp_path
        )
        return result.stdout

    ec_opts = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    run("req", "-x509", *ec_opts, "-keyout", "ca.key", "-out", "ca.crt", "-subj", "/CN=Old CA")
    csr = run(
        "req", "-new", *ec_opts, "-keyout", "server.key", "-subj", "/CN=reg.example.com",
        "-addext", "subjectAltName=DNS:reg.example.com",
    )  # fmt: skip
    run(
        "x509", "-req", "-CA", "ca.crt", "-CAkey", "ca.key", "-sha1", "-days", "100",
        "-copy_extensions", "copy", "-out", "server.crt", stdin=csr,
    )  # fmt: skip
    os.chmod(tmp_path / "server.key", 0o600)
    cert_path = tmp_path / "server.crt"
    problems = check_server_certificate(cert_path, tmp_path / "server.key", "reg.example.com")
    assert messages(problems) == [
        (
            "error",
            f"the certificate in {cert_path} is signed with SHA-1, which Docker and other Go "
            "clients reject since Go 1.18: issue it again signed with SHA-256",
        )
    ]


def test_problems_error(tmp_path: Path) -> None:
    warning = CertProblem("warning", tmp_path, "w")
    assert problems_error([warning]) is None
    one = problems_error([warning, CertProblem("error", tmp_path, "e", "h")])
    assert isinstance(one, CertificateError)
    assert (one.message, one.hint, one.exit_code) == ("e", "h", 6)
    two = problems_error([CertProblem("error", tmp_path, "a"), CertProblem("error", tmp_path, "b")])
    assert two is not None and two.message == "2 certificate problems:\n  - a\n  - b"
