"""Sealing journal payloads at rest with AES-GCM (`cryptography`'s vetted AEAD).

Each record gets a fresh 96-bit nonce; the associated data binds the ciphertext to its
record id, so a blob copied onto another row fails to open instead of lying.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from collections.abc import Mapping

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from resolvers.errors import CrossdockError

KEY_SETTING = "saga.journal_key"
KEY_ENV = "CROSSDOCK_JOURNAL_KEY"
_NONCE_BYTES = 12


class JournalKeyError(CrossdockError):
    """The journal key is missing or malformed: a startup error, never a runtime one."""

    code = "CONFIGURATION"


class JournalCorrupted(CrossdockError):
    """A sealed record failed authentication: tampered, moved, or sealed with another key."""

    code = "JOURNAL_CORRUPTED"


class Sealer:
    """Encrypts and authenticates journal payloads with one 32-byte AES-256-GCM key.

    Example::

        sealer = Sealer.from_environ(os.environ)      # CROSSDOCK_JOURNAL_KEY=<base64 of 32 bytes>
        blob = sealer.seal("process:42", b"{...}")
        assert sealer.open("process:42", blob) == b"{...}"
    """

    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise JournalKeyError(
                f"{KEY_SETTING} must decode to 32 bytes, got {len(key)} "
                f"(generate one with: python -c 'import os,base64;"
                f"print(base64.b64encode(os.urandom(32)).decode())')"
            )
        self._aead = AESGCM(key)
        self._mac_key = hashlib.sha256(b"crossdock-journal-index" + key).digest()

    @classmethod
    def from_base64(cls, value: str | None) -> Sealer:
        if not value:
            raise JournalKeyError(
                f"{KEY_SETTING} is missing (set {KEY_ENV} or [saga] journal_key to the "
                "base64 of 32 random bytes); the order journal cannot start without it"
            )
        try:
            key = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise JournalKeyError(f"{KEY_SETTING} is not valid base64 ({KEY_ENV})") from exc
        return cls(key)

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Sealer:
        return cls.from_base64(environ.get(KEY_ENV))

    @staticmethod
    def generate_key() -> str:
        return base64.b64encode(os.urandom(32)).decode()

    def seal(self, record_id: str, plaintext: bytes) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, plaintext, record_id.encode())

    def open(self, record_id: str, blob: bytes) -> bytes:
        nonce, body = blob[:_NONCE_BYTES], blob[_NONCE_BYTES:]
        try:
            if len(nonce) != _NONCE_BYTES:
                raise InvalidTag  # truncated: AESGCM would raise a ValueError about the nonce
            return self._aead.decrypt(nonce, body, record_id.encode())
        except InvalidTag as exc:
            raise JournalCorrupted(f"journal record {record_id} failed authentication") from exc

    def digest(self, purpose: str, value: str) -> str:
        """A keyed digest for indexed lookups (idempotency key, order id) without plaintext."""
        message = f"{purpose}\x00{value}".encode()
        return hmac.new(self._mac_key, message, hashlib.sha256).hexdigest()
