"""Open UIDAI's offline e-KYC ZIP with the resident's share code, refusing anything a ZIP can
hide (docs/document-data.md §6).

UIDAI's ZIP is AES-encrypted (docs/reference/aadhaar-xml.md §2.3), which the standard library's
`zipfile` cannot decrypt, so pyzipper reads it. Before a byte is decompressed, the archive's
directory is checked: a few entries at most, none with an absolute or parent path or a link,
exactly one XML, encrypted, whose declared size is within bounds. The size is checked again
while reading, since a directory may lie. Pure: bytes in, the XML's bytes out, or an error.
"""

from __future__ import annotations

import io
import stat
import zipfile
import zlib

from digilocker_gateway.errors import (
    OfflineEkycInvalid,
    OfflineEkycNotZip,
    OfflineEkycTampered,
    OfflineEkycUnsafeEntry,
    OfflineEkycWrongShareCode,
    OfflineEkycZipBomb,
)

__all__ = ["MAX_ENTRIES", "MAX_RATIO", "open_offline_zip"]

# UIDAI's ZIP holds one XML; a few entries leave room for a folder entry, and no more.
MAX_ENTRIES = 4
# XML with a base64 photo compresses about 1.5:1; far beyond 100:1 is a bomb.
MAX_RATIO = 100
_ENCRYPTED = 0x1


def _unsafe(info: zipfile.ZipInfo) -> bool:
    name = info.filename
    parts = name.replace("\\", "/").split("/")
    if name.startswith(("/", "\\")) or "\x00" in name or ".." in parts:
        return True
    if len(parts[0]) >= 2 and parts[0][1] == ":":  # a Windows drive, C:evil.xml
        return True
    return stat.S_ISLNK(info.external_attr >> 16)


def open_offline_zip(archive: bytes, share_code: str, *, max_xml_bytes: int) -> bytes:
    """The one XML inside `archive`, decrypted with `share_code`."""
    # Imported on first use: pyzipper brings PyCryptodome and cffi's C parser (about 50 ms of
    # start-up) for a call most deployments never make.
    import pyzipper

    # pyzipper carries its own copy of zipfile, whose exceptions are not the standard library's.
    bad_zip = (zipfile.BadZipFile, pyzipper.BadZipFile, zipfile.LargeZipFile, pyzipper.LargeZipFile)
    try:
        opened = pyzipper.AESZipFile(io.BytesIO(archive))
    except (*bad_zip, ValueError, EOFError, OSError):
        raise OfflineEkycNotZip() from None
    with opened:
        entries = opened.infolist()
        if len(entries) > MAX_ENTRIES:
            raise OfflineEkycZipBomb("The ZIP holds more entries than an offline e-KYC has.")
        if any(_unsafe(info) for info in entries):
            raise OfflineEkycUnsafeEntry()
        files = [info for info in entries if not info.is_dir()]
        if len(files) != 1 or not files[0].filename.lower().endswith(".xml"):
            raise OfflineEkycInvalid("The ZIP must hold exactly one XML file.")
        entry = files[0]
        if not entry.flag_bits & _ENCRYPTED:
            raise OfflineEkycInvalid("The ZIP is not protected by a share code, as UIDAI's is.")
        if entry.file_size > max_xml_bytes:
            raise OfflineEkycZipBomb()
        if entry.file_size > MAX_RATIO * max(entry.compress_size, 1):
            raise OfflineEkycZipBomb()
        try:
            with opened.open(entry, pwd=share_code.encode()) as member:
                xml: bytes = member.read(max_xml_bytes + 1)
                if len(xml) > max_xml_bytes:
                    raise OfflineEkycZipBomb()
                member.read(1)  # reach the end, where the integrity check is made
        except RuntimeError as exc:
            # pyzipper's only words for a password its check value refuses.
            if "password" in str(exc).lower():
                raise OfflineEkycWrongShareCode() from None
            raise OfflineEkycTampered() from None
        except NotImplementedError:
            raise OfflineEkycInvalid("The ZIP uses a compression UIDAI does not.") from None
        except (*bad_zip, zlib.error, EOFError, ValueError):
            raise OfflineEkycTampered() from None
    return xml
