"""The user's drive: folder listings with ids (reference §7) and uploads (§17)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

import pytest

from digilocker_gateway.simulator.drive import png_image
from tests.simulator.conftest import CLIENT_SECRET, MakeSim, Sim

BASE = "/public/oauth2"
PDF = b"%PDF-1.4\n% a tiny synthetic test file\n%%EOF\n"
ITEM_FIELDS = {
    "id", "name", "type", "size", "date", "parent", "mime", "uri", "description", "issuer",
}  # fmt: skip


def _mac(body: bytes, secret: str = CLIENT_SECRET) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


async def _token(sim: Sim, scenario: str = "complete", **extra: str) -> str:
    token: str = (await sim.tokens(scenario, **extra))["access_token"]
    return token


async def _upload(
    sim: Sim,
    token: str,
    body: bytes,
    path: str,
    content_type: str = "application/pdf",
    **headers: str,
) -> Any:
    sent = {
        "Authorization": f"Bearer {token}",
        "path": path,
        "content-type": content_type,
        "hmac": _mac(body),
        **headers,
    }
    return await sim.client.post(f"{BASE}/1/file/upload", content=body, headers=sent)


def _by_name(listing: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["name"]: item for item in listing["items"]}


async def test_root_lists_seeded_folders_and_files_with_ids(sim: Sim) -> None:
    token = await _token(sim)

    response = await sim.get(f"{BASE}/1/files/", token)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"directory", "items"}
    assert body["directory"] == "/"
    items = _by_name(body)
    assert {"Certificates", "Photos", "rent-agreement.pdf", "signature.png"} <= set(items)
    for item in body["items"]:
        assert set(item) == ITEM_FIELDS
        assert item["id"].isdigit()
        assert item["size"].isdigit()
    assert items["Certificates"]["type"] == "dir"
    assert items["Certificates"]["uri"] == ""
    assert items["signature.png"]["type"] == "file"
    assert items["signature.png"]["mime"] == "image/png"
    assert len({item["parent"] for item in body["items"]}) == 1


async def test_folder_id_lists_that_folder_and_nested_folders_have_their_own_ids(
    sim: Sim,
) -> None:
    token = await _token(sim)
    root = _by_name((await sim.get(f"{BASE}/1/files/", token)).json())

    photos = (await sim.get(f"{BASE}/1/files/{root['Photos']['id']}", token)).json()
    old = _by_name(photos)["Old"]
    empty = (await sim.get(f"{BASE}/1/files/{old['id']}", token)).json()

    assert photos["directory"] == "/Photos"
    assert {item["parent"] for item in photos["items"]} == {root["Photos"]["id"]}
    assert _by_name(photos)["passport-photo.jpg"]["mime"] == "image/jpeg"
    assert old["type"] == "dir"
    assert empty == {"directory": "/Photos/Old", "items": []}


async def test_root_without_trailing_slash_answers_the_same(sim: Sim) -> None:
    token = await _token(sim)

    with_slash = await sim.get(f"{BASE}/1/files/", token)
    without = await sim.get(f"{BASE}/1/files", token)

    assert without.status_code == 200
    assert without.json() == with_slash.json()


async def test_unknown_folder_returns_404_invalid_id(sim: Sim) -> None:
    token = await _token(sim)

    response = await sim.get(f"{BASE}/1/files/999", token)

    assert response.status_code == 404
    assert response.json() == {
        "error": "invalid_id",
        "error_description": "The folder does not exist",
    }


async def test_another_users_folder_id_is_unknown(sim: Sim) -> None:
    mine = await _token(sim, "complete")
    theirs = await _token(sim, "eaadhaar-not-available")
    their_root = _by_name((await sim.get(f"{BASE}/1/files/", theirs)).json())

    response = await sim.get(f"{BASE}/1/files/{their_root['Photos']['id']}", mine)

    assert response.status_code == 404


async def test_uploaded_file_is_fetched_by_uri_with_hmac_but_has_no_xml(sim: Sim) -> None:
    token = await _token(sim)
    item = _by_name((await sim.get(f"{BASE}/1/files/", token)).json())["rent-agreement.pdf"]

    file = await sim.get(f"{BASE}/1/file/{item['uri']}", token)
    xml = await sim.get(f"{BASE}/1/xml/{item['uri']}", token)

    assert file.status_code == 200
    assert file.content.startswith(b"%PDF-")
    assert file.headers["content-type"] == "application/pdf"
    assert file.headers["hmac"] == _mac(file.content)
    assert str(len(file.content)) == item["size"]
    assert xml.status_code == 404
    assert xml.json()["error"] == "invalid_uri"


async def test_someone_who_just_signed_up_has_an_empty_drive(sim: Sim) -> None:
    token = await _token(sim, "new-user")

    body = (await sim.get(f"{BASE}/1/files/", token)).json()

    assert body == {"directory": "/", "items": []}


@pytest.mark.parametrize(
    "call", ["list", "folder", "file", "upload"], ids=["list", "folder", "file", "upload"]
)
async def test_drive_without_uploadeddocs_scope_returns_403_insufficient_scope(
    sim: Sim, call: str
) -> None:
    full = await _token(sim)
    root = _by_name((await sim.get(f"{BASE}/1/files/", full)).json())
    narrow = await _token(sim, scope="files.issueddocs userdetails")

    if call == "upload":
        response = await _upload(sim, narrow, PDF, "/x.pdf")
    else:
        path = {
            "list": f"{BASE}/1/files/",
            "folder": f"{BASE}/1/files/{root['Photos']['id']}",
            "file": f"{BASE}/1/file/{root['rent-agreement.pdf']['uri']}",
        }[call]
        response = await sim.get(path, narrow)

    assert response.status_code == 403
    assert response.json()["error"] == "insufficient_scope"


async def test_v2_files_uploaded_is_not_served(sim: Sim) -> None:
    token = await _token(sim)

    response = await sim.get(f"{BASE}/2/files/uploaded", token)

    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


# --- upload ----------------------------------------------------------------------------------


async def test_upload_stores_the_file_in_the_folder_and_it_can_be_fetched(sim: Sim) -> None:
    token = await _token(sim)
    image = png_image(8, 8, [(10, 200, 30)])

    response = await _upload(sim, token, image, "/Certificates/scan.png", "image/png")

    assert response.status_code == 200, response.text
    assert response.json() == {"path": "/Certificates/scan.png", "size": str(len(image))}
    root = _by_name((await sim.get(f"{BASE}/1/files/", token)).json())
    folder = _by_name((await sim.get(f"{BASE}/1/files/{root['Certificates']['id']}", token)).json())
    stored = folder["scan.png"]
    assert stored["size"] == str(len(image))
    assert stored["parent"] == root["Certificates"]["id"]
    fetched = await sim.get(f"{BASE}/1/file/{stored['uri']}", token)
    assert fetched.content == image
    assert fetched.headers["content-type"] == "image/png"


async def test_upload_without_leading_slash_goes_to_the_root(sim: Sim) -> None:
    token = await _token(sim)

    response = await _upload(sim, token, PDF, "notes.pdf")

    assert response.json()["path"] == "/notes.pdf"
    assert "notes.pdf" in _by_name((await sim.get(f"{BASE}/1/files/", token)).json())


async def test_upload_to_an_existing_name_replaces_the_file_and_keeps_its_id(sim: Sim) -> None:
    token = await _token(sim)
    before = _by_name((await sim.get(f"{BASE}/1/files/", token)).json())["rent-agreement.pdf"]

    await _upload(sim, token, PDF, "/rent-agreement.pdf")
    after = _by_name((await sim.get(f"{BASE}/1/files/", token)).json())["rent-agreement.pdf"]

    assert after["id"] == before["id"]
    assert after["size"] == str(len(PDF))
    assert (await sim.get(f"{BASE}/1/file/{after['uri']}", token)).content == PDF


@pytest.mark.parametrize(
    ("headers", "body", "error"),
    [
        pytest.param({"path": ""}, PDF, "path_missing", id="path_missing"),
        pytest.param({"content-type": ""}, PDF, "contenttype_missing", id="contenttype_missing"),
        pytest.param({"hmac": ""}, PDF, "hmac_missing", id="hmac_missing"),
        pytest.param({"path": "/Certificates/"}, PDF, "filename_missing", id="filename_missing"),
        pytest.param({"path": "/a*b.pdf"}, PDF, "invalid_filename", id="invalid_filename"),
        pytest.param({"path": "/it's.pdf"}, PDF, "invalid_filename", id="invalid_filename_quote"),
        pytest.param(
            {"content-type": "application/octet-stream"},
            PDF,
            "invalid_filetype",
            id="invalid_filetype",
        ),
        pytest.param(
            {"content-type": "image/pdf"}, PDF, "invalid_filetype", id="invalid_filetype_image_pdf"
        ),
        pytest.param({"path": "/No Such Folder/x.pdf"}, PDF, "invalid_path", id="invalid_path"),
        pytest.param({"path": "/../x.pdf"}, PDF, "invalid_path", id="invalid_path_dotdot"),
        pytest.param({}, b"", "file_data_missing", id="file_data_missing"),
        pytest.param(
            {"hmac": _mac(PDF, "not-the-secret")}, PDF, "hmac_mismatch", id="hmac_mismatch"
        ),
        pytest.param(
            {"content-type": "image/jpeg"}, PDF, "mimetype_mismatch", id="mimetype_mismatch"
        ),
    ],
)
async def test_bad_upload_returns_400_with_its_code_and_stores_nothing(
    sim: Sim, headers: dict[str, str], body: bytes, error: str
) -> None:
    token = await _token(sim)
    before = (await sim.get(f"{BASE}/1/files/", token)).json()
    sent = {"path": "/upload.pdf", "content-type": "application/pdf", "hmac": _mac(body)}
    sent.update(headers)
    request_headers = {"Authorization": f"Bearer {token}"}
    request_headers.update({name: value for name, value in sent.items() if value})

    response = await sim.client.post(f"{BASE}/1/file/upload", content=body, headers=request_headers)

    assert response.status_code == 400
    assert response.json()["error"] == error
    assert (await sim.get(f"{BASE}/1/files/", token)).json() == before


async def test_upload_over_the_size_limit_returns_invalid_filesize(make_sim: MakeSim) -> None:
    sim = await make_sim(upload_max_bytes=1024)
    token = await _token(sim)
    big = PDF + b"0" * 1024

    response = await _upload(sim, token, big, "/big.pdf")
    at_limit = await _upload(sim, token, PDF + b"0" * (1024 - len(PDF)), "/fits.pdf")

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_filesize"
    assert at_limit.status_code == 200


async def test_upload_size_limit_defaults_to_10_mb(sim: Sim) -> None:
    token = await _token(sim)
    big = PDF + b"0" * (10 * 1024 * 1024)

    response = await _upload(sim, token, big, "/big.pdf")

    assert response.json()["error"] == "invalid_filesize"


async def test_upload_without_bearer_returns_401_invalid_token(sim: Sim) -> None:
    response = await sim.client.post(
        f"{BASE}/1/file/upload",
        content=PDF,
        headers={"path": "/x.pdf", "content-type": "application/pdf", "hmac": _mac(PDF)},
    )

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"
