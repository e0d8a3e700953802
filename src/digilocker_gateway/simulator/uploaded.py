"""The user's drive over HTTP: `GET /1/files/` and `/1/files/{id}` list a folder, and
`POST /1/file/upload` stores a file (docs/reference/digilocker-partner-api.md §7, §17).

Both need the grant's `files.uploadeddocs` scope. An upload is checked in the order of the
spec's error list: headers first (`path`, `Content-Type`, `hmac`), then the name and type, the
folder, and last the body (present, at most 10 MB, its `hmac`, its real type). The body is read
only up to the limit, so an oversized upload never sits in memory.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from typing import Any
from urllib.parse import unquote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from digilocker_gateway.simulator.context import SimulatorContext
from digilocker_gateway.simulator.drive import (
    RESTRICTED_NAME_CHARACTERS,
    Drive,
    DriveFile,
    DriveFolder,
)
from digilocker_gateway.simulator.errors import SimError
from digilocker_gateway.simulator.resources import bearer_grant, require_scope

UPLOADED_SCOPE = "files.uploadeddocs"
# docs/reference/digilocker-partner-api.md §17: the four accepted types. `image/jpg` is the same
# file type as `image/jpeg`; the spec's `application/octet-stream` and `image/pdf` are refused.
_FILE_TYPES = {
    "application/pdf": "pdf",
    "image/jpeg": "jpeg",
    "image/jpg": "jpeg",
    "image/png": "png",
}
_MAGIC = {"pdf": (b"%PDF-",), "jpeg": (b"\xff\xd8\xff",), "png": (b"\x89PNG\r\n\x1a\n",)}


def _date(file: DriveFile) -> str:
    return file.uploaded_at.strftime("%Y-%m-%dT%H:%M:%SZ")


def _listing(drive: Drive, folder: DriveFolder) -> dict[str, Any]:
    folders, files = drive.children(folder)
    items: list[dict[str, Any]] = [
        {
            "id": sub.id,
            "name": sub.name,
            "type": "dir",
            "size": str(drive.size_of(sub)),
            "date": "",
            "parent": folder.id,
            "mime": "",
            "uri": "",
            "description": "",
            "issuer": "",
        }
        for sub in sorted(folders, key=lambda f: f.name.lower())
    ]
    items.extend(
        {
            "id": file.id,
            "name": file.name,
            "type": "file",
            "size": str(len(file.body)),
            "date": _date(file),
            "parent": folder.id,
            "mime": file.mime,
            "uri": file.uri,
            "description": file.description,
            "issuer": "",
        }
        for file in sorted(files, key=lambda f: f.name.lower())
    )
    return {"directory": folder.path, "items": items}


async def files_uploaded(ctx: SimulatorContext, request: Request) -> Response:
    """GET /public/oauth2/1/files/ (the root) and /1/files/{id} (one folder): the flat
    `{directory, items}` (docs/reference/digilocker-partner-api.md §7)."""
    grant = bearer_grant(ctx, request)
    require_scope(grant, UPLOADED_SCOPE)
    drive = ctx.state.drive_for(grant.user)
    folder_id = str(request.path_params.get("id", "")).strip()
    folder = drive.folder(folder_id) if folder_id else drive.root
    if folder is None:
        raise SimError("invalid_id", "The folder does not exist", 404)
    return JSONResponse(_listing(drive, folder))


def _bad(error: str, description: str) -> SimError:
    return SimError(error, description, 400)


def _split_path(raw: str) -> tuple[list[str], str]:
    """Folder names and the file name of a `path` header such as `/Certificates/x.pdf`; each
    segment is percent-decoded after the split, so an encoded slash cannot add a folder."""
    segments = raw.strip().split("/")
    names = [unquote(segment) for segment in segments[:-1] if segment]
    return names, unquote(segments[-1]).strip()


def _hmac_matches(secret: str, body: bytes, supplied: str) -> bool:
    expected = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()
    text = supplied.strip()
    try:
        # base64 as the spec says; missing padding is forgiven.
        given = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except binascii.Error:
        return False
    return hmac.compare_digest(given, expected)


async def _read_body(request: Request, limit: int) -> bytes | None:
    """The body, or None as soon as it is longer than `limit`."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


async def upload(ctx: SimulatorContext, request: Request) -> Response:
    """POST /public/oauth2/1/file/upload: the raw bytes, with `path`, `Content-Type` and `hmac`
    headers (docs/reference/digilocker-partner-api.md §17). Answers the flat `{path, size}`."""
    grant = bearer_grant(ctx, request)
    require_scope(grant, UPLOADED_SCOPE)
    raw_path = request.headers.get("path", "").strip()
    if not raw_path:
        raise _bad("path_missing", "Path parameter is missing")
    content_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if not content_type:
        raise _bad("contenttype_missing", "Content-Type parameter is missing")
    supplied_hmac = request.headers.get("hmac", "").strip()
    if not supplied_hmac:
        raise _bad("hmac_missing", "HMAC parameter is missing")
    folder_names, name = _split_path(raw_path)
    if not name:
        raise _bad("filename_missing", "Filename is missing in path parameter")
    if any(ch in RESTRICTED_NAME_CHARACTERS or ord(ch) < 32 for ch in name):
        raise _bad("invalid_filename", "Restricted characters are not allowed in file name")
    kind = _FILE_TYPES.get(content_type)
    if kind is None:
        raise _bad("invalid_filetype", "The file type is not allowed")
    drive = ctx.state.drive_for(grant.user)
    folder = drive.folder_at(folder_names)
    if folder is None:
        raise _bad("invalid_path", "The destination folder does not exist")
    body = await _read_body(request, ctx.settings.upload_max_bytes)
    if body is None:
        raise _bad("invalid_filesize", "The file size exceeds maximum allowed file size of 10MB")
    if not body:
        raise _bad("file_data_missing", "Missing file content in the request")
    secret = ctx.state.apps[grant.client_id].client_secret
    if not _hmac_matches(secret, body, supplied_hmac):
        raise _bad("hmac_mismatch", "HMAC does not match")
    if not body.startswith(_MAGIC[kind]):
        raise _bad(
            "mimetype_mismatch",
            "The mimetype provided in Content-Type parameter does not match with the mimetype "
            "of the file",
        )
    stored = drive.put_file(folder, name, content_type, body, ctx.clock.now())
    path = f"{folder.path.rstrip('/')}/{stored.name}"
    return JSONResponse({"path": path, "size": str(len(stored.body))})
