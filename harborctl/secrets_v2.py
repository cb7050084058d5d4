"""The secrets of a Harbor 2.x deployment: load-or-create, kept from run to run.

Harbor's own prepare draws the core and jobservice secrets, the registry credential, the CSRF
key and the robot prefix anew on every run, so each run changes every service's configuration
(and drops web sessions); harborctl keeps them, so that an unchanged harbor.yml converges to
nothing. Like ``harborctl.secrets``, randomness lives here and in that module alone.
"""

from __future__ import annotations

import secrets as random_source
import string
from collections.abc import Mapping
from dataclasses import dataclass

from harborctl.errors import CertificateError

_ALPHABET = string.ascii_letters + string.digits
REGISTRY_USER = "harbor_registry_user"
# Cost 5, as Harbor's htpasswd -B writes it: the registry checks the credential on every call
# core proxies, so a higher cost would be paid per request.
BCRYPT_COST = 5
TEXT_LENGTHS = {"secretkey": 16, "core_secret": 16, "jobservice_secret": 16,
                "registry_password": 32, "csrf_key": 32, "robot_prefix": 8}


@dataclass(frozen=True)
class Secrets2:
    secretkey: str  # AES key of the credentials core stores; never changes once made
    core_secret: str
    jobservice_secret: str
    registry_password: str  # core's and jobservice's basic-auth password at the registry
    registry_htpasswd: bytes  # "harbor_registry_user:<bcrypt>\n", registry/passwd
    csrf_key: str
    robot_prefix: str
    token_key_pem: bytes  # PKCS#1: libtrust computes the token's kid only from this form
    token_cert_pem: bytes

    def masked_values(self) -> list[str]:
        return [self.secretkey, self.core_secret, self.jobservice_secret,
                self.registry_password, self.csrf_key]


def _token(length: int) -> str:
    return "".join(random_source.choice(_ALPHABET) for _ in range(length))


def htpasswd_line(password: str) -> bytes:
    """One htpasswd line for the registry's credential, bcrypt-hashed (the distribution
    registry's htpasswd reader accepts $2a$/$2b$/$2y$)."""
    import bcrypt  # only where a credential is made or checked

    hashed: bytes = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=BCRYPT_COST))
    return REGISTRY_USER.encode() + b":" + hashed + b"\n"


def htpasswd_matches(line: bytes, password: str) -> bool:
    import bcrypt

    user, _, hashed = line.strip().partition(b":")
    try:
        matches: bool = bcrypt.checkpw(password.encode(), hashed)
        return user == REGISTRY_USER.encode() and matches
    except ValueError:  # not a bcrypt hash
        return False


def complete_secrets_v2(stored: Mapping[str, bytes | None], token_bits: int = 4096
                        ) -> tuple[Secrets2, list[str]]:
    """Fill in whatever ``stored`` lacks; return the secrets and the names that were created."""
    from harborctl.tls.making import generate_token_signing_pair
    from harborctl.tls.reading import key_matches_cert, to_pkcs1

    created: list[str] = []
    values: dict[str, str] = {}
    for name, length in TEXT_LENGTHS.items():
        raw = stored.get(name)
        value = raw.decode("utf-8", "replace").strip() if raw is not None else None
        if value is not None and len(value) != length and name == "secretkey":
            raise CertificateError("the stored secretkey is not 16 characters long",
                                   hint="restore the original file: every stored credential "
                                        "depends on it")
        if value is None or len(value) != length:
            value = _token(length)
            created.append(name)
        values[name] = value
    htpasswd = stored.get("registry_htpasswd")
    if htpasswd is None or "registry_password" in created or not htpasswd_matches(
            htpasswd, values["registry_password"]):
        htpasswd = htpasswd_line(values["registry_password"])
        created.append("registry_htpasswd")
    token_key, token_cert = stored.get("token_key_pem"), stored.get("token_cert_pem")
    if token_key is None or token_cert is None or not key_matches_cert(
            token_key, token_cert, trusted=True):
        pair = generate_token_signing_pair(bits=token_bits)
        token_key, token_cert = pair.key_pem, pair.cert_pem
        created += ["token_key_pem", "token_cert_pem"]
    elif not token_key.lstrip().startswith(b"-----BEGIN RSA PRIVATE KEY-----"):
        token_key = to_pkcs1(token_key)
    return Secrets2(registry_htpasswd=htpasswd, token_key_pem=token_key,
                    token_cert_pem=token_cert, **values), created
