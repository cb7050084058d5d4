"""Whether a certificate's key is too small to protect the registry: pure."""

from __future__ import annotations

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import dsa, ec, rsa

__all__ = ["MIN_EC_BITS", "MIN_RSA_BITS", "STRONGER_KEY_HINT", "weak_key", "weak_key_message"]

# NIST SP 800-57 and the CA/Browser Forum baseline: below these a key is breakable or soon will
# be, and browsers or recent Go releases refuse it.
MIN_RSA_BITS = 2048
MIN_EC_BITS = 256

STRONGER_KEY_HINT = "'harborctl gencert --force' issues an EC P-256 certificate from your own CA"


def weak_key(cert: x509.Certificate) -> str | None:
    """What is weak about ``cert``'s public key ("an RSA key of 1024 bits (at least 2048 are
    needed)"), or None when it is strong enough or of a kind sized otherwise (Ed25519)."""
    try:
        key = cert.public_key()
    except (ValueError, UnsupportedAlgorithm):
        return None
    if isinstance(key, rsa.RSAPublicKey) and key.key_size < MIN_RSA_BITS:
        return f"an RSA key of {key.key_size} bits (at least {MIN_RSA_BITS} are needed)"
    if isinstance(key, ec.EllipticCurvePublicKey) and key.curve.key_size < MIN_EC_BITS:
        return (
            f"an EC key of {key.curve.key_size} bits ({key.curve.name}; at least "
            f"{MIN_EC_BITS} are needed)"
        )
    if isinstance(key, dsa.DSAPublicKey):
        return f"a DSA key ({key.key_size} bits), which TLS clients no longer accept"
    return None


def weak_key_message(cert: x509.Certificate, which: str) -> str | None:
    """The warning for ``which`` certificate ("the certificate in FILE") when its key is weak."""
    weakness = weak_key(cert)
    if weakness is None:
        return None
    return (
        f"{which} has {weakness}: anyone who breaks it can impersonate the registry; issue a "
        "new one with an RSA 2048+ or EC P-256 key"
    )
