"""Certificates and keys with ``cryptography``; nothing in this package writes a file.

* ``making``: new keys and certificates (the private CA, server and notary-signer leaves, the
  token-signing pair), returned as PEM bytes.
* ``reading``: PEM bytes in, facts out (``CertInfo``), keys matched to certificates, host names
  matched against a certificate's subjectAltName.
* ``checking``: every problem with the certificate and key nginx will serve, as sentences.
* ``strength``: whether a certificate's key is too small (RSA < 2048, EC < 256 bits).

Callers import each name from the module that owns it; this package re-exports nothing. The
writers are ``harborctl.gencert`` and ``harborctl.trust``.
"""
