"""Every secret of a deployment: read back from the data volume, created only when missing.

Randomness lives here alone. ``complete_secrets`` is pure apart from drawing random values: it
takes what was read from disk and returns the full set plus the names it had to create; the files
are written by ``harborctl.files`` together with the rest of the deployment.
"""

from __future__ import annotations

import os
import secrets as random_source
import string
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from harborctl.config.model import Config
from harborctl.errors import CertificateError, SecretKeyLostError

_ALPHABET = string.ascii_letters + string.digits
SECRET_MODE = 0o600


@dataclass(frozen=True)
class Secrets:
    secretkey: str  # 16 characters: the AES key core uses for stored credentials
    defaultalias: str  # notary signer's default key alias
    core_secret: str
    jobservice_secret: str
    registry_http_secret: str
    token_key_pem: bytes  # PKCS#1, as the 1.7.5 core loads it
    token_cert_pem: bytes
    notary_ca_key_pem: bytes | None
    notary_ca_cert_pem: bytes | None
    notary_signer_key_pem: bytes | None
    notary_signer_cert_pem: bytes | None

    def masked_values(self) -> list[str]:
        """Strings that must never be shown, e.g. in a --dry-run diff."""
        return [self.secretkey, self.defaultalias, self.core_secret, self.jobservice_secret,
                self.registry_http_secret]


def secret_paths(config: Config) -> dict[str, Path]:
    """Where each secret lives. secretkey and defaultalias stay where Harbor 1.7 kept them."""
    keep = config.paths.secretkey_path
    own = config.paths.data_volume / "secret" / "harborctl"
    return {
        "secretkey": keep / "secretkey",
        "defaultalias": keep / "defaultalias",
        "core_secret": own / "core_secret",
        "jobservice_secret": own / "jobservice_secret",
        "registry_http_secret": own / "registry_http_secret",
        "token_key_pem": own / "token_private_key.pem",
        "token_cert_pem": own / "token_root.crt",
        "notary_ca_key_pem": own / "notary-signer-ca.key",
        "notary_ca_cert_pem": own / "notary-signer-ca.crt",
        "notary_signer_key_pem": own / "notary-signer.key",
        "notary_signer_cert_pem": own / "notary-signer.crt",
    }


def read_secret_files(paths: Mapping[str, Path]) -> dict[str, bytes | None]:
    found: dict[str, bytes | None] = {}
    for name, path in paths.items():
        try:
            found[name] = path.read_bytes()
        except FileNotFoundError:
            found[name] = None
        except OSError as exc:
            raise CertificateError(
                f"cannot read the stored secret {path}: {exc.strerror}",
                hint="run harborctl as root, or fix the file's permissions",
            ) from exc
    return found


def _database_holds_data(config: Config) -> bool:
    try:
        with os.scandir(config.paths.data_volume / "database") as entries:
            return any(True for _ in entries)
    except FileNotFoundError:
        return False
    except OSError:  # there, but not ours to list: assume it holds data
        return True


LOST_WITH_THE_SECRETKEY = (
    "every credential Harbor stored encrypted with it (LDAP, UAA and e-mail passwords set in "
    "the web interface, replication endpoints' passwords) becomes unreadable and must be "
    "entered again")


def check_secretkey_kept(stored: Mapping[str, bytes | None], config: Config,
                         prepared_before: Path | None, allow_new: bool) -> list[str]:
    """Refuse to replace a missing secretkey once a deployment used it.

    ``prepared_before`` is the secretkey path the last prepare of the project recorded (None
    when there was none). Returns the warning to show when ``allow_new`` accepts the loss."""
    if stored.get("secretkey") is not None:
        return []
    path = secret_paths(config)["secretkey"]
    if _database_holds_data(config):
        why = f"the database in {config.paths.data_volume / 'database'} already holds data"
    elif prepared_before is not None:
        moved = "" if prepared_before == path else f" (which kept it in {prepared_before})"
        why = f"this project was already prepared{moved}"
    else:
        return []
    if allow_new:
        return [f"warning: --new-secretkey: a new secretkey is created in {path}; "
                f"{LOST_WITH_THE_SECRETKEY}"]
    raise SecretKeyLostError(
        f"the secretkey {path} is missing but {why}: a new key means "
        f"{LOST_WITH_THE_SECRETKEY}",
        hint="restore the original secretkey file (from a backup, or set secretkey_path back), "
             "or run again with --new-secretkey to accept the loss",
    )


def _token(length: int) -> str:
    return "".join(random_source.choice(_ALPHABET) for _ in range(length))


def _text(stored: bytes | None, length: int) -> str | None:
    if stored is None:
        return None
    value = stored.decode("utf-8", "replace").strip()
    return value if len(value) == length else None


def complete_secrets(
    stored: Mapping[str, bytes | None], with_notary: bool, token_bits: int = 4096,
    where: Mapping[str, Path] | None = None,
) -> tuple[Secrets, list[str]]:
    """Fill in whatever ``stored`` lacks; return the secrets and the names that were created.
    ``where`` (``secret_paths``) names the files in an error about a stored one."""
    from harborctl.tls.making import generate_token_signing_pair
    from harborctl.tls.reading import key_matches_cert, to_pkcs1

    created: list[str] = []

    def text(name: str, length: int) -> str:
        value = _text(stored.get(name), length)
        if value is None:
            if stored.get(name) is not None and name == "secretkey":
                raise CertificateError(
                    "the stored secretkey is not 16 characters long",
                    hint="restore the original file: every stored credential depends on it",
                )
            created.append(name)
            value = _token(length)
        return value

    values = {
        "secretkey": text("secretkey", 16),
        "defaultalias": text("defaultalias", 8),
        "core_secret": text("core_secret", 32),
        "jobservice_secret": text("jobservice_secret", 32),
        "registry_http_secret": text("registry_http_secret", 32),
    }
    token_key, token_cert = stored.get("token_key_pem"), stored.get("token_cert_pem")
    # The pair is harborctl's own, stored 0600: skip OpenSSL's slow RSA self-check on re-runs.
    shown = where or {}
    if token_key is None or token_cert is None or not key_matches_cert(
        token_key, token_cert, trusted=True,
        key_what=str(shown.get("token_key_pem", "the stored token signing key")),
        cert_what=str(shown.get("token_cert_pem", "the stored token certificate")),
    ):
        pair = generate_token_signing_pair(bits=token_bits)
        token_key, token_cert = pair.key_pem, pair.cert_pem
        created += ["token_key_pem", "token_cert_pem"]
    elif not token_key.lstrip().startswith(b"-----BEGIN RSA PRIVATE KEY-----"):
        token_key = to_pkcs1(token_key)

    notary: dict[str, bytes | None] = dict.fromkeys(
        ("notary_ca_key_pem", "notary_ca_cert_pem", "notary_signer_key_pem",
         "notary_signer_cert_pem"))
    if with_notary or all(stored.get(name) for name in notary):
        notary, made = _notary_material(stored)
        created += made
    return Secrets(
        secretkey=values["secretkey"],
        defaultalias=values["defaultalias"],
        core_secret=values["core_secret"],
        jobservice_secret=values["jobservice_secret"],
        registry_http_secret=values["registry_http_secret"],
        token_key_pem=token_key,
        token_cert_pem=token_cert,
        notary_ca_key_pem=notary["notary_ca_key_pem"],
        notary_ca_cert_pem=notary["notary_ca_cert_pem"],
        notary_signer_key_pem=notary["notary_signer_key_pem"],
        notary_signer_cert_pem=notary["notary_signer_cert_pem"],
    ), created


def _notary_material(
    stored: Mapping[str, bytes | None],
) -> tuple[dict[str, bytes | None], list[str]]:
    from harborctl.tls.making import KeyPair, generate_ca, generate_notary_signer_pair

    names = ("notary_ca_key_pem", "notary_ca_cert_pem", "notary_signer_key_pem",
             "notary_signer_cert_pem")
    if all(stored.get(name) for name in names):
        return {name: stored[name] for name in names}, []
    ca_key, ca_cert = stored.get("notary_ca_key_pem"), stored.get("notary_ca_cert_pem")
    if ca_key is None or ca_cert is None:
        ca = generate_ca("harbor-notary-signer-ca")
    else:
        ca = KeyPair(ca_key, ca_cert)
    leaf = generate_notary_signer_pair(ca)
    made = [name for name in names if not stored.get(name)]
    return {
        "notary_ca_key_pem": ca.key_pem,
        "notary_ca_cert_pem": ca.cert_pem,
        "notary_signer_key_pem": leaf.key_pem,
        "notary_signer_cert_pem": leaf.cert_pem,
    }, made
