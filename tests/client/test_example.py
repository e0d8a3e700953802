"""examples/sdk_usage.py works (mypy --strict checks its types with the rest of the code)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from tests.client.test_setu_mock import REQUEST_ID, Setu, client_for

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sdk_usage.py"


def load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("sdk_usage", EXAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_example_summarises_status_and_aadhaar() -> None:
    example = load_example()
    with client_for(Setu()) as client:
        assert example.describe(client.status(REQUEST_ID)).startswith(
            f"{REQUEST_ID}: authenticated"
        )
        assert example.aadhaar_summary(client, REQUEST_ID) == "xxxx-xxxx-9012, PIN 560099"
        assert example.aadhaar_summary(client, "unknown") == "no such request"
