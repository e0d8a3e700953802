"""The few HTML pages the gateway itself shows a person (a journey that cannot start, a callback
that cannot be honoured). Nothing from the request is echoed unescaped."""

from __future__ import annotations

from html import escape

from fastapi.responses import HTMLResponse

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body{{font-family:system-ui,sans-serif;background:#f4f6fb;margin:0;color:#1d2433}}
main{{max-width:32rem;margin:10vh auto;background:#fff;padding:2rem;border-radius:12px;
box-shadow:0 2px 12px rgba(0,0,0,.08)}}
h1{{font-size:1.3rem;margin-top:0}} p{{line-height:1.5}} code{{color:#555}}
</style></head>
<body><main><h1>{title}</h1><p>{message}</p><p><code>{reference}</code></p></main></body></html>
"""


def message_page(title: str, message: str, *, status: int, reference: str = "") -> HTMLResponse:
    body = _PAGE.format(
        title=escape(title),
        message=escape(message),
        reference=escape(f"Reference: {reference}") if reference else "",
    )
    return HTMLResponse(
        body,
        status_code=status,
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )
