"""The redirect back to the business's `redirectUrl` after the journey, read into a typed
result (docs/reference/setu-api.md §6): `success`, `id`, `scope`, or `errCode`/`errMessage`."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import parse_qs, urlsplit

from pydantic import BaseModel, ConfigDict

__all__ = ["CallbackResult", "parse_callback"]


class CallbackResult(BaseModel):
    """What the redirect back says. `success` is True only for `success=true`; `scope` is
    DigiLocker's granted scope (space-separated), `err_code` Setu's code on failure."""

    model_config = ConfigDict(frozen=True)

    success: bool
    id: str | None = None
    scope: str | None = None
    err_code: str | None = None
    err_message: str | None = None

    @property
    def scopes(self) -> list[str]:
        """The granted scope's items (for example `files.issueddocs`, `PANCR`)."""
        return (self.scope or "").split()


def parse_callback(redirect: str | Mapping[str, str]) -> CallbackResult:
    """Read the redirect back: the full URL the browser arrived at, its query string, or its
    query parameters already parsed (for example a web framework's `request.query_params`).
    Never trust it alone: confirm with `status(id)`, as anyone can type this URL."""
    if isinstance(redirect, str):
        query = urlsplit(redirect).query if "?" in redirect or "://" in redirect else redirect
        parsed = parse_qs(query.lstrip("?"), keep_blank_values=True)
        values = {key: items[-1] for key, items in parsed.items()}
    else:
        values = {key: str(value) for key, value in redirect.items()}

    def text(name: str) -> str | None:
        value = values.get(name, "").strip()
        return value or None

    return CallbackResult(
        success=(values.get("success", "").strip().lower() == "true"),
        id=text("id"),
        scope=text("scope"),
        err_code=text("errCode"),
        err_message=text("errMessage"),
    )
