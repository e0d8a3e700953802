"""API client secrets: made at random, stored only as keyed hashes (`runtime_build.py` derives
the hash keys from the configured keyring, storage/keys.py; tests may build them directly)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SecretHasher:
    """Keyed hash (HMAC-SHA256) of API client secrets. Client secrets are long random strings,
    so a fast keyed hash is as strong as a slow password hash here, and keeps each API call
    cheap; without the key a stolen table is useless."""

    key_id: str
    key: bytes
    older_keys: tuple[tuple[str, bytes], ...] = ()

    def hash(self, secret: str) -> tuple[str, str]:
        return self.key_id, self._digest(self.key, secret)

    def matches(self, secret: str, *, key_id: str, expected: str) -> bool:
        for candidate_id, key in ((self.key_id, self.key), *self.older_keys):
            if candidate_id == key_id:
                return hmac.compare_digest(self._digest(key, secret), expected)
        return False

    @staticmethod
    def _digest(key: bytes, secret: str) -> str:
        return hmac.new(key, secret.encode(), hashlib.sha256).hexdigest()


def random_secret() -> str:
    """An API client secret: 256 bits, URL-safe."""
    return secrets.token_urlsafe(32)
