"""The SDK needs none of the server's dependencies: imported in a fresh interpreter where the
server's libraries and every other part of the package are blocked, it loads and works."""

from __future__ import annotations

import subprocess
import sys
import textwrap

BLOCKED = [
    "fastapi",
    "starlette",
    "uvicorn",
    "sqlalchemy",
    "alembic",
    "aiosqlite",
    "asyncpg",
    "cryptography",
    "signxml",
    "lxml",
    "boto3",
    "rich",
    "rapidfuzz",
    "anyascii",
    "pyzipper",
    "pydantic_settings",
    "multipart",
]

SCRIPT = textwrap.dedent(
    """
    import importlib.abc, sys
    BLOCKED = set(sys.argv[1].split(","))
    ALLOWED_OURS = ("digilocker_gateway", "digilocker_gateway.client")

    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            top = name.split(".")[0]
            ours_elsewhere = name.startswith("digilocker_gateway.") and not (
                name == "digilocker_gateway.client" or name.startswith("digilocker_gateway.client.")
            )
            if top in BLOCKED or ours_elsewhere:
                raise ImportError("blocked: " + name)
            return None

    sys.meta_path.insert(0, Block())
    import httpx
    import digilocker_gateway.client as sdk
    import digilocker_gateway.client.cli

    def handler(request):
        return httpx.Response(200, json={"success": True})

    with sdk.DigiLockerClient(
        "https://dg-sandbox.setu.co", client_id="a", client_secret="b",
        product_instance_id="c", transport=httpx.MockTransport(handler),
    ) as client:
        assert client.revoke("x").success
    loaded = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
    print("ok", loaded)
    """
)


def test_sdk_and_its_cli_import_and_work_without_the_server() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, ",".join(BLOCKED)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok []"


def test_the_blocker_really_blocks() -> None:
    script = SCRIPT.replace("import digilocker_gateway.client.cli", "import digilocker_gateway.app")
    done = subprocess.run(
        [sys.executable, "-c", script, ",".join(BLOCKED)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode != 0
    assert "blocked" in done.stderr
