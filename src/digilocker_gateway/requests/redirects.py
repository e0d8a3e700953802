"""Building the redirect back to the caller's `redirectUrl` (docs/reference/setu-api.md §6): the
caller's own query parameters are kept, ours appended."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import unquote_plus, urlencode, urlsplit, urlunsplit


def append_query(url: str, params: Sequence[tuple[str, str]]) -> str:
    parts = urlsplit(url)
    # The caller's own parameters go back byte for byte (a caller may sign its redirectUrl);
    # only same-named ones are dropped, so `success` cannot be pre-set by a crafted URL.
    ours = {name for name, _ in params}
    kept = [
        piece
        for piece in parts.query.split("&")
        if piece and unquote_plus(piece.split("=", 1)[0]) not in ours
    ]
    return urlunsplit(parts._replace(query="&".join([*kept, urlencode(params)])))


def success_redirect(redirect_url: str, *, request_id: str, doc_types: Sequence[str]) -> str:
    # urlencode turns the space into "+", which is Setu's "ADHAR+PANCR" on the wire.
    return append_query(
        redirect_url, [("success", "true"), ("id", request_id), ("scope", " ".join(doc_types))]
    )


def failure_redirect(redirect_url: str, *, request_id: str, code: str, message: str) -> str:
    return append_query(
        redirect_url,
        [("success", "false"), ("id", request_id), ("errCode", code), ("errMessage", message)],
    )
