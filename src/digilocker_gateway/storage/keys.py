"""The keyring: named 256-bit master keys, one of them active, and the purpose-specific subkeys
derived from them.

docs/architecture.md §4: tokens and blobs are encrypted under a configured key whose id is kept with
the data so keys can rotate. The configured keys are never used directly: every use derives its own
subkey with HKDF-SHA256, so one operator-supplied key never serves two purposes (a URL-signing HMAC
key that is also an AES key would let a weakness in one use leak into the other).

Rotation: add the new key to `DLG_ENCRYPTION_KEYS`, make it active, keep the old one listed until
nothing encrypted under it remains (blobs and tokens die with their request after `validUpto`),
then remove it.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import secrets
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Final

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

KEY_BYTES: Final = 32
KEY_ID_PATTERN: Final = re.compile(r"[A-Za-z0-9_-]{1,32}")

# Subkey purposes. Changing one of these strings makes everything stored under it unreadable.
TOKENS: Final = "tokens"
BLOBS: Final = "blobs"
URL_SIGNING: Final = "url-signing"

_HKDF_INFO_PREFIX: Final = b"digilocker-gateway/v1/"
_DEV_KEY_HEADER: Final = (
    "# digilocker-gateway DEVELOPMENT encryption key, generated automatically.\n"
    "# NOT for production: set DLG_ENCRYPTION_KEYS (kid:base64key) there instead.\n"
)


class KeyringError(ValueError):
    """The keyring specification or key file is unusable. Messages name key ids and positions,
    never key material."""


class UnknownKeyId(KeyringError):
    """Data names a key id that is not (or no longer) in the keyring."""

    def __init__(self, key_id: str) -> None:
        self.key_id = key_id
        super().__init__(f"key id {key_id!r} is not in the keyring")


def is_valid_key_id(key_id: str) -> bool:
    return KEY_ID_PATTERN.fullmatch(key_id) is not None


def _decode_key(encoded: str, *, position: int, key_id: str) -> bytes:
    # Accept both base64 alphabets, with or without padding, since operators paste keys from
    # `openssl rand -base64 32` (standard) as often as from Python's urlsafe helpers.
    text = encoded.strip().replace("-", "+").replace("_", "/")
    text += "=" * (-len(text) % 4)
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise KeyringError(
            f"key #{position} ({key_id!r}) is not valid base64 (standard or urlsafe)"
        ) from None
    if len(raw) != KEY_BYTES:
        raise KeyringError(
            f"key #{position} ({key_id!r}) decodes to {len(raw)} bytes; "
            f"it must be {KEY_BYTES} bytes (256 bits)"
        )
    return raw


def encode_key(key: bytes) -> str:
    """A key in the urlsafe base64 form `Keyring.parse` reads."""
    return base64.urlsafe_b64encode(key).decode("ascii")


class Keyring:
    """Named master keys and the id of the one that encrypts and signs new data.

    Other keys stay only to decrypt and verify what was written under them."""

    __slots__ = ("_active_id", "_keys", "_subkeys")

    def __init__(self, keys: Mapping[str, bytes], active_id: str) -> None:
        if not keys:
            raise KeyringError("the keyring needs at least one key")
        for key_id, key in keys.items():
            if not is_valid_key_id(key_id):
                raise KeyringError(
                    f"invalid key id {key_id!r}: use 1-32 characters from A-Z a-z 0-9 _ -"
                )
            if len(key) != KEY_BYTES:
                raise KeyringError(f"key {key_id!r} must be {KEY_BYTES} bytes")
        if active_id not in keys:
            raise KeyringError(f"active key id {active_id!r} is not one of the configured keys")
        self._keys: dict[str, bytes] = dict(keys)
        self._active_id = active_id
        self._subkeys: dict[tuple[str, str], bytes] = {}

    @classmethod
    def parse(cls, spec: str, active: str | None) -> Keyring:
        """Read `"kid1:BASE64KEY,kid2:BASE64KEY"`. `active` picks the key for new data; when it
        is None the first key listed is active."""
        keys: dict[str, bytes] = {}
        entries = [entry.strip() for entry in spec.split(",")]
        if not any(entries):
            raise KeyringError("no keys given: expected 'kid:base64key[,kid2:base64key...]'")
        for position, entry in enumerate(entries, start=1):
            if not entry:
                raise KeyringError(f"key #{position} is empty (stray comma?)")
            key_id, separator, encoded = entry.partition(":")
            key_id = key_id.strip()
            if not separator:
                raise KeyringError(f"key #{position} has no ':'; expected 'kid:base64key'")
            if not is_valid_key_id(key_id):
                raise KeyringError(
                    f"key #{position} has an invalid key id {key_id!r}: "
                    "use 1-32 characters from A-Z a-z 0-9 _ -"
                )
            if key_id in keys:
                raise KeyringError(f"key id {key_id!r} appears more than once")
            keys[key_id] = _decode_key(encoded, position=position, key_id=key_id)
        if active is None:
            active = next(iter(keys))
        elif active not in keys:
            raise KeyringError(
                f"active key id {active!r} is not one of the configured keys "
                f"({', '.join(sorted(keys))})"
            )
        return cls(keys, active)

    @classmethod
    def generate_dev(cls, path: Path) -> tuple[Keyring, bool]:
        """Load the development key file at `path`, creating it (mode 0600) if it does not exist.

        Returns the keyring and whether the file was just created, so the caller can warn that a
        development key is in use."""
        try:
            return cls._read_key_file(path), False
        except FileNotFoundError:
            pass
        path.parent.mkdir(parents=True, exist_ok=True)
        key_id = f"dev-{secrets.token_hex(4)}"
        content = f"{_DEV_KEY_HEADER}{key_id}:{encode_key(secrets.token_bytes(KEY_BYTES))}\n"
        # Written whole to a private temporary file and published with link(), which refuses to
        # overwrite: two processes starting together both end up using whichever key won, and
        # nobody ever reads a half-written key file.
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="ascii") as handle:
                if hasattr(os, "fchmod"):
                    os.fchmod(handle.fileno(), 0o600)  # in case a umask was unusual
                handle.write(content)
                handle.flush()
                os.fsync(handle.fileno())
            try:
                os.link(temporary, path)
                created = True
            except FileExistsError:
                created = False
        finally:
            temporary.unlink(missing_ok=True)
        return cls._read_key_file(path), created

    @classmethod
    def _read_key_file(cls, path: Path) -> Keyring:
        text = path.read_text(encoding="ascii")
        lines = [line.strip() for line in text.splitlines()]
        spec = ",".join(line for line in lines if line and not line.startswith("#"))
        try:
            return cls.parse(spec, None)
        except KeyringError as exc:
            raise KeyringError(f"development key file {path} is unusable: {exc}") from None

    @property
    def active_id(self) -> str:
        return self._active_id

    @property
    def key_ids(self) -> tuple[str, ...]:
        return tuple(self._keys)

    def __contains__(self, key_id: object) -> bool:
        return key_id in self._keys

    def subkey(self, purpose: str, key_id: str | None = None) -> bytes:
        """The 256-bit subkey for `purpose` derived from key `key_id` (default: the active key).

        Raises `UnknownKeyId` when the keyring does not hold `key_id`."""
        key_id = self._active_id if key_id is None else key_id
        cached = self._subkeys.get((purpose, key_id))
        if cached is not None:
            return cached
        master = self._keys.get(key_id)
        if master is None:
            raise UnknownKeyId(key_id)
        derived = HKDF(
            algorithm=hashes.SHA256(),
            length=KEY_BYTES,
            salt=None,
            info=_HKDF_INFO_PREFIX + purpose.encode("ascii"),
        ).derive(master)
        self._subkeys[(purpose, key_id)] = derived
        return derived

    def subkeys(self, purpose: str) -> list[tuple[str, bytes]]:
        """Every key's subkey for `purpose`, the active one first: for consumers that keep their
        own key list (e.g. `kit.secrets.SecretHasher`)."""
        ordered: Iterable[str] = (
            self._active_id,
            *(key_id for key_id in self._keys if key_id != self._active_id),
        )
        return [(key_id, self.subkey(purpose, key_id)) for key_id in ordered]

    def __repr__(self) -> str:
        # Key material must never reach logs or tracebacks, so only ids are shown.
        return f"Keyring(active_id={self._active_id!r}, key_ids={list(self._keys)!r})"

    __str__ = __repr__
