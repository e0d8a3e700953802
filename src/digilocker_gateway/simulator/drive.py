"""A user's own drive ("DigiLocker Drive"): folders with ids and the files the user uploaded
(docs/reference/digilocker-partner-api.md §7, §17). Plain data and rules, no HTTP: `uploaded.py`
serves it.

Chosen where DigiLocker is undocumented (docs/simulator.md): folder and file ids are opaque
strings of 9 digits, derived from the user so that they are the same on every run; an uploaded
file's URI is `in.gov.digilocker-DRIVE-<file id>`, in the `<issuerid>-<DOCTYPE>-<docid>` shape of
issued URIs; uploading to a name that already exists in the folder replaces that file.
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from digilocker_gateway.simulator.model import SimDocument, SimUser
from digilocker_gateway.simulator.pdf import render_pdf
from digilocker_gateway.simulator.photo import synthetic_photo_jpeg

DRIVE_ISSUERID = "in.gov.digilocker"
DRIVE_DOCTYPE = "DRIVE"
# docs/reference/digilocker-partner-api.md §14: characters a file name must not contain.
RESTRICTED_NAME_CHARACTERS = frozenset("\\/:*?<>|'^~")


@dataclass(slots=True)
class DriveFolder:
    id: str
    name: str
    parent: str  # the containing folder's id; "" for the root
    path: str  # "/" for the root, else "/Name/Sub"


@dataclass(slots=True)
class DriveFile:
    id: str
    name: str
    parent: str
    mime: str
    body: bytes
    uploaded_at: datetime
    description: str = ""  # the document type, when the user set one

    @property
    def uri(self) -> str:
        return f"{DRIVE_ISSUERID}-{DRIVE_DOCTYPE}-{self.id}"


@dataclass(slots=True)
class Drive:
    """One user's folders and files. Ids count up from a number derived from the user."""

    root: DriveFolder
    next_id: int
    folders: dict[str, DriveFolder] = field(default_factory=dict)
    files: dict[str, DriveFile] = field(default_factory=dict)

    @classmethod
    def empty(cls, digilockerid: str) -> Drive:
        start = 100_000_000 + int(hashlib.sha256(digilockerid.encode()).hexdigest()[:8], 16) % (
            800_000_000
        )
        root = DriveFolder(id=str(start), name="", parent="", path="/")
        return cls(root=root, next_id=start + 1, folders={root.id: root})

    def _new_id(self) -> str:
        value = self.next_id
        self.next_id += 1
        return str(value)

    def folder(self, folder_id: str) -> DriveFolder | None:
        return self.folders.get(folder_id)

    def folder_at(self, names: list[str]) -> DriveFolder | None:
        """The folder reached from the root through `names` (case-sensitive), if it exists."""
        current = self.root
        for name in names:
            found = next(
                (f for f in self.folders.values() if f.parent == current.id and f.name == name),
                None,
            )
            if found is None:
                return None
            current = found
        return current

    def add_folder(self, parent: DriveFolder, name: str) -> DriveFolder:
        path = f"{parent.path.rstrip('/')}/{name}"
        folder = DriveFolder(id=self._new_id(), name=name, parent=parent.id, path=path)
        self.folders[folder.id] = folder
        return folder

    def put_file(
        self,
        parent: DriveFolder,
        name: str,
        mime: str,
        body: bytes,
        now: datetime,
        description: str = "",
    ) -> DriveFile:
        """Store a file; one already there under the same name is replaced, keeping its id."""
        existing = next(
            (f for f in self.files.values() if f.parent == parent.id and f.name == name), None
        )
        if existing is not None:
            existing.mime, existing.body, existing.uploaded_at = mime, body, now
            return existing
        stored = DriveFile(self._new_id(), name, parent.id, mime, body, now, description)
        self.files[stored.id] = stored
        return stored

    def file_by_uri(self, uri: str) -> DriveFile | None:
        prefix = f"{DRIVE_ISSUERID}-{DRIVE_DOCTYPE}-"
        if not uri.startswith(prefix):
            return None
        return self.files.get(uri.removeprefix(prefix))

    def children(self, folder: DriveFolder) -> tuple[list[DriveFolder], list[DriveFile]]:
        folders = [f for f in self.folders.values() if f.parent == folder.id]
        files = [f for f in self.files.values() if f.parent == folder.id]
        return folders, files

    def size_of(self, folder: DriveFolder) -> int:
        """Bytes of every file in the folder and below."""
        folders, files = self.children(folder)
        return sum(len(f.body) for f in files) + sum(self.size_of(sub) for sub in folders)


def png_image(width: int, height: int, rows: list[tuple[int, int, int]]) -> bytes:
    """A valid 8-bit RGB PNG whose row y has colour rows[y % len(rows)] (stdlib zlib only)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    raw = b"".join(b"\x00" + bytes(rows[y % len(rows)]) * width for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"".join(
        (
            b"\x89PNG\r\n\x1a\n",
            chunk(b"IHDR", header),
            chunk(b"IDAT", zlib.compress(raw, 9)),
            chunk(b"IEND", b""),
        )
    )


def _uploaded_pdf(user: SimUser, title: str, docid: str, fields: dict[str, str]) -> bytes:
    # The issued-document PDF layout serves for a user's own scan as well.
    paper = SimDocument(
        doctype=DRIVE_DOCTYPE,
        orgid="",
        issuerid=DRIVE_ISSUERID,
        issuer_name="Uploaded by the account holder",
        name=title,
        docid=docid,
        formats=("pdf",),
        parameters={},
        issued=False,
        fields=fields,
    )
    return render_pdf(user, paper)


def seed_drive(user: SimUser) -> Drive:
    """The drive a seeded user starts with; empty for someone who has only just signed up.

    Root: `Certificates/` (a PDF letter), `Photos/` (a JPEG, and an empty `Old/` folder inside),
    a PDF rent agreement and a PNG signature. Dates are stable, derived from the user.
    """
    drive = Drive.empty(user.digilockerid)
    if user.scenario == "new-user":
        return drive
    days = int(hashlib.sha256(user.digilockerid.encode()).hexdigest()[:6], 16) % 1500
    when = datetime(2019, 6, 1, 9, 30, tzinfo=UTC) + timedelta(days=days)
    certificates = drive.add_folder(drive.root, "Certificates")
    photos = drive.add_folder(drive.root, "Photos")
    drive.add_folder(photos, "Old")
    letter = {"Organisation": "Sample Technologies (synthetic)", "Period": "Jun-Aug 2012"}
    drive.put_file(
        certificates,
        "internship-letter.pdf",
        "application/pdf",
        _uploaded_pdf(user, "Internship letter", "IL" + user.digilockerid[:8], letter),
        when,
        description="Experience certificate",
    )
    drive.put_file(
        photos,
        "passport-photo.jpg",
        "image/jpeg",
        user.photo_jpeg or synthetic_photo_jpeg(),
        when + timedelta(days=3),
    )
    agreement = {"Premises": "12, 1st Main, Demo Nagar", "Term": "11 months"}
    drive.put_file(
        drive.root,
        "rent-agreement.pdf",
        "application/pdf",
        _uploaded_pdf(user, "Rent agreement", "RA" + user.digilockerid[:8], agreement),
        when + timedelta(days=10),
    )
    ink = [(250, 250, 250)] * 5 + [(20, 30, 120)]
    drive.put_file(drive.root, "signature.png", "image/png", png_image(120, 40, ink), when)
    return drive
