"""Building the redirect back to the caller's `redirectUrl` (setu-api-contract.md, "The consent
journey and the redirect back"): the caller's own query parameters are kept, ours appended."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit


def append_query(url: str, params: Sequence[tuple[str, str]]) -> str:
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    # Ours replace same-named caller parameters, so `success` cannot be pre-set by a crafted URL.
    ours = {name for name, _ in params}
    kept = [(name, value) for name, value in query if name not in ours]
    return urlunsplit(parts._replace(query=urlencode([*kept, *params])))


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
