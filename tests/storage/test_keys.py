"""Keyring parsing, dev key files and subkey derivation."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pytest

from digilocker_gateway.storage.keys import (
    BLOBS,
    TOKENS,
    URL_SIGNING,
    Keyring,
    KeyringError,
    UnknownKeyId,
)

KEY_A = bytes(range(32))
KEY_B = bytes(range(32, 64))


def standard_b64(key: bytes) -> str:
    return base64.b64encode(key).decode()


def urlsafe_b64(key: bytes, *, padded: bool = True) -> str:
    encoded = base64.urlsafe_b64encode(key).decode()
    return encoded if padded else encoded.rstrip("=")


def test_parse_single_key_makes_it_active() -> None:
    keyring = Keyring.parse(f"main:{standard_b64(KEY_A)}", None)

    assert keyring.active_id == "main"
    assert keyring.key_ids == ("main",)


def test_parse_without_active_picks_first_listed_key() -> None:
    keyring = Keyring.parse(f"new:{standard_b64(KEY_B)},old:{standard_b64(KEY_A)}", None)

    assert keyring.active_id == "new"
    assert keyring.key_ids == ("new", "old")


def test_parse_with_active_uses_named_key() -> None:
    keyring = Keyring.parse(f"k1:{standard_b64(KEY_A)}, k2:{standard_b64(KEY_B)}", "k2")

    assert keyring.active_id == "k2"


def test_standard_and_urlsafe_unpadded_encodings_give_same_subkeys() -> None:
    # 0xfb... bytes make the two alphabets differ ('+/' versus '-_').
    key = bytes([0xFB, 0xFF, 0xBF] * 10 + [0xFE, 0xEF])
    standard = Keyring.parse(f"k:{standard_b64(key)}", None)
    urlsafe = Keyring.parse(f"k:{urlsafe_b64(key, padded=False)}", None)

    assert standard_b64(key) != urlsafe_b64(key, padded=False)
    assert standard.subkey(TOKENS) == urlsafe.subkey(TOKENS)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "no keys"),
        ("   ", "no keys"),
        (f"k1:{standard_b64(KEY_A)},,k2:{standard_b64(KEY_B)}", "key #2 is empty"),
        (standard_b64(KEY_A), "has no ':'"),
        (f"bad.id:{standard_b64(KEY_A)}", "invalid key id"),
        (f"{'x' * 33}:{standard_b64(KEY_A)}", "invalid key id"),
        (f":{standard_b64(KEY_A)}", "invalid key id"),
        ("k1:not*base64!", "not valid base64"),
        (f"k1:{standard_b64(KEY_A[:16])}", "decodes to 16 bytes"),
        (f"k1:{standard_b64(KEY_A)},k1:{standard_b64(KEY_B)}", "more than once"),
    ],
)
def test_bad_spec_raises_keyring_error_with_reason(spec: str, message: str) -> None:
    with pytest.raises(KeyringError, match=message):
        Keyring.parse(spec, None)


def test_unknown_active_key_id_raises_keyring_error() -> None:
    with pytest.raises(KeyringError, match="active key id 'k9'"):
        Keyring.parse(f"k1:{standard_b64(KEY_A)}", "k9")


def test_errors_never_contain_key_material() -> None:
    short_key = standard_b64(KEY_A[:20])
    with pytest.raises(KeyringError) as caught:
        Keyring.parse(f"k1:{short_key}", None)

    assert short_key not in str(caught.value)


def test_repr_and_str_show_ids_but_no_key_material() -> None:
    keyring = Keyring.parse(f"k1:{standard_b64(KEY_A)},k2:{standard_b64(KEY_B)}", "k2")

    for text in (repr(keyring), str(keyring)):
        assert "k1" in text
        assert "k2" in text
        for key in (KEY_A, KEY_B):
            assert standard_b64(key) not in text
            assert urlsafe_b64(key) not in text
            assert repr(key) not in text
            assert key.hex() not in text


def test_subkeys_differ_per_purpose_and_from_master_key() -> None:
    keyring = Keyring.parse(f"k1:{standard_b64(KEY_A)}", None)

    derived = {keyring.subkey(purpose) for purpose in (TOKENS, BLOBS, URL_SIGNING)}

    assert len(derived) == 3
    assert KEY_A not in derived
    assert all(len(key) == 32 for key in derived)


def test_subkey_is_stable_across_keyring_instances() -> None:
    first = Keyring.parse(f"k1:{standard_b64(KEY_A)}", None)
    second = Keyring.parse(f"k1:{standard_b64(KEY_A)}", None)

    assert first.subkey(BLOBS) == second.subkey(BLOBS)


def test_subkey_for_unknown_key_id_raises_unknown_key_id() -> None:
    keyring = Keyring.parse(f"k1:{standard_b64(KEY_A)}", None)

    with pytest.raises(UnknownKeyId) as caught:
        keyring.subkey(TOKENS, "gone")

    assert caught.value.key_id == "gone"


def test_subkeys_lists_active_key_first() -> None:
    keyring = Keyring.parse(f"old:{standard_b64(KEY_A)},new:{standard_b64(KEY_B)}", "new")

    listed = keyring.subkeys(TOKENS)

    assert [key_id for key_id, _ in listed] == ["new", "old"]
    assert listed[1][1] == keyring.subkey(TOKENS, "old")


def test_generate_dev_creates_private_key_file(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "dev.key"

    keyring, created = Keyring.generate_dev(path)

    assert created is True
    assert path.is_file()
    if os.name == "posix":
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert keyring.active_id.startswith("dev-")
    assert "DEVELOPMENT" in path.read_text()
    assert [p.name for p in path.parent.iterdir()] == ["dev.key"]


def test_generate_dev_reuses_existing_key_file(tmp_path: Path) -> None:
    path = tmp_path / "dev.key"
    first, first_created = Keyring.generate_dev(path)
    contents = path.read_bytes()

    second, second_created = Keyring.generate_dev(path)

    assert first_created is True
    assert second_created is False
    assert second.active_id == first.active_id
    assert second.subkey(TOKENS) == first.subkey(TOKENS)
    assert path.read_bytes() == contents


def test_generate_dev_with_corrupt_file_raises_keyring_error(tmp_path: Path) -> None:
    path = tmp_path / "dev.key"
    path.write_text("# comment only\nnot-a-key\n")

    with pytest.raises(KeyringError, match="development key file"):
        Keyring.generate_dev(path)
