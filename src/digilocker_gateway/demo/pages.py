"""The demo's HTML: server-rendered, usable without JavaScript (only the live status refresh
uses it, from `/demo/demo.js`), with the simulator's look. Everything shown is escaped."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape

from digilocker_gateway.client import (
    AadhaarResult,
    CatalogueDocument,
    DigiLockerError,
    FetchedDocument,
    RequestStatus,
)

# The simulator's palette and card (simulator/pages.py), so the whole journey looks as one.
_CSS = """
*{box-sizing:border-box}
body{margin:0;font-family:"Segoe UI",Roboto,Helvetica,Arial,sans-serif;background:#eef1f8;
color:#1d2433}
header{background:#1f6f5c;color:#fff;padding:14px 24px;display:flex;align-items:center;gap:12px}
.logo{width:34px;height:34px;border-radius:8px;background:#fff;color:#1f6f5c;font-weight:700;
display:flex;align-items:center;justify-content:center;font-size:18px}
.brand{font-size:20px;font-weight:600;letter-spacing:.3px}
.badge{margin-left:auto;background:#f7b731;color:#3b2a00;border-radius:12px;padding:3px 10px;
font-size:12px;font-weight:600}
main{display:flex;flex-direction:column;align-items:center;gap:18px;padding:32px 16px}
.card{background:#fff;border-radius:12px;box-shadow:0 4px 18px rgba(20,40,90,.12);
width:100%;max-width:560px;padding:24px 30px}
h1{font-size:21px;margin:0 0 6px}h2{font-size:17px;margin:0 0 10px}
p.sub{color:#5a6478;margin:0 0 16px;font-size:14px}
label{display:block;font-size:13px;font-weight:600;margin:14px 0 6px}
input[type=text],select{width:100%;padding:10px 12px;border:1px solid #c5cbe0;border-radius:8px;
font-size:15px}
button,.button{display:inline-block;margin-top:16px;padding:11px 18px;border:0;border-radius:8px;
background:#23408e;color:#fff;font-size:15px;font-weight:600;cursor:pointer;text-decoration:none}
button.danger{background:#a3192b}
button:focus-visible,a:focus-visible,input:focus-visible,select:focus-visible{
outline:3px solid #f7b731;outline-offset:2px}
fieldset{border:0;padding:0;margin:0}legend{font-size:13px;font-weight:600;margin-bottom:6px}
ul.docs{list-style:none;padding:0;margin:8px 0 0}
ul.docs li{border:1px solid #dde2f0;border-radius:8px;padding:10px 12px;margin-bottom:8px}
ul.docs li>label{display:flex;gap:10px;margin:0;font-weight:400;align-items:center}
.alert{background:#fdecec;color:#a3192b;border-radius:8px;padding:10px 12px;font-size:14px;
margin-bottom:12px;overflow-wrap:anywhere}
.ok{background:#e6f4ea;color:#185c2e;border-radius:8px;padding:10px 12px;font-size:14px}
dl{display:grid;grid-template-columns:max-content 1fr;gap:6px 14px;margin:0;font-size:14px}
dt{color:#5a6478}dd{margin:0;overflow-wrap:anywhere}
.status{font-weight:700;padding:2px 10px;border-radius:10px;background:#eef1f8}
.photo{width:96px;height:auto;border-radius:8px;border:1px solid #dde2f0}
footer{text-align:center;font-size:12px;color:#7a8399;padding-bottom:24px}
"""

DOCUMENT_CHOICES: tuple[tuple[str, str], ...] = (
    ("ADHAR", "Aadhaar"),
    ("PANCR", "PAN card"),
    ("DRVLC", "Driving licence"),
    ("RVCER", "Vehicle registration"),
)


def layout(title: str, content: str) -> str:
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)} | Demo lender</title><style>{_CSS}</style>"
        '<script src="/demo/demo.js" defer></script></head>'
        '<body><header><div class="logo" aria-hidden="true">L</div>'
        '<div class="brand">Demo Lender · KYC</div>'
        '<span class="badge">DEMO · development only</span></header>'
        f"<main>{content}</main>"
        "<footer>A demo integration served by the gateway in development, built on its Python "
        "SDK. Synthetic data only.</footer></body></html>"
    )


def error_box(error: DigiLockerError | str | None) -> str:
    if error is None:
        return ""
    if isinstance(error, str):
        return f'<div class="alert" role="alert">{escape(error)}</div>'
    trace = f" · traceId {escape(error.trace_id)}" if error.trace_id else ""
    return (
        f'<div class="alert" role="alert"><strong>{escape(error.code)}</strong>: '
        f"{escape(error.detail)}{trace}</div>"
    )


def start_page(error: DigiLockerError | str | None = None) -> str:
    boxes = "".join(
        f'<li><label><input type="checkbox" name="doctype" value="{code}"'
        f"{' checked' if code in ('ADHAR', 'PANCR') else ''}> {escape(name)}"
        f" <small>({code})</small></label></li>"
        for code, name in DOCUMENT_CHOICES
    )
    return layout(
        "Verify your identity",
        '<div class="card"><h1>Verify your identity</h1>'
        '<p class="sub">Share your documents from DigiLocker: no uploads, no photocopies.</p>'
        f"{error_box(error)}"
        '<form method="post" action="/demo/start">'
        f'<fieldset><legend>Documents to share</legend><ul class="docs">{boxes}</ul></fieldset>'
        '<button type="submit">Verify with DigiLocker</button></form>'
        '<p class="sub" style="margin-top:16px">On the embedded simulator, sign in as a test '
        'user from <a href="/simulator/_sim/users">/simulator/_sim/users</a>.</p></div>',
    )


def failed_page(code: str | None, message: str | None, request_id: str | None) -> str:
    link = (
        f' <a href="/demo/requests/{escape(request_id)}">See the request</a>.' if request_id else ""
    )
    reason = f"{code or 'unknown_error'}: {message or 'DigiLocker did not say why.'}"
    return layout(
        "Verification not completed",
        '<div class="card"><h1>Verification not completed</h1>'
        f"{error_box(reason)}"
        f'<p class="sub">Nothing was shared.{link}</p>'
        '<a class="button" href="/demo">Try again</a></div>',
    )


@dataclass
class RequestView:
    """Everything the request page shows."""

    status: RequestStatus
    consented: Sequence[str] = ()
    documents: dict[str, list[CatalogueDocument]] = field(default_factory=dict)
    aadhaar: AadhaarResult | None = None
    fetched: FetchedDocument | None = None
    fetched_label: str = ""
    error: DigiLockerError | str | None = None


def _details(status: RequestStatus) -> str:
    details = status.digilocker_user_details
    rows = [
        ("Request", status.id),
        (
            "Status",
            f'<output id="status" class="status" aria-live="polite">{escape(status.status)}'
            "</output>",
        ),
        ("Valid until", escape(status.valid_upto)),
    ]
    html_rows = "".join(
        f"<dt>{label}</dt><dd>{value if label == 'Status' else escape(value)}</dd>"
        for label, value in rows
    )
    for label, value in (
        ("DigiLocker id", details.digilocker_id),
        ("Email", details.email),
        ("Mobile", details.phone_number),
    ):
        if value:
            html_rows += f"<dt>{label}</dt><dd>{escape(value)}</dd>"
    return f"<dl>{html_rows}</dl>"


def _aadhaar(request_id: str, result: AadhaarResult | None) -> str:
    action = f"/demo/requests/{escape(request_id)}/aadhaar"
    if result is None:
        return (
            '<div class="card"><h2>Aadhaar</h2><p class="sub">Read the verified e-Aadhaar '
            "the user shared.</p>"
            f'<form method="post" action="{action}"><button type="submit">Fetch Aadhaar'
            "</button></form></div>"
        )
    data = result.aadhaar
    address = data.address
    parts = [
        address.house,
        address.street,
        address.landmark,
        address.locality,
        address.vtc,
        address.sub_district,
        address.district,
        address.state,
        address.pin,
    ]
    photo = (
        f'<img class="photo" alt="Photo on the Aadhaar of {escape(data.name)}" '
        f'src="data:image/jpeg;base64,{escape(data.photo)}">'
        if data.photo
        else ""
    )
    verified = "signature verified" if data.verified.signature else "signature NOT verified"
    return (
        f'<div class="card" id="aadhaar"><h2>Aadhaar</h2>{photo}<dl>'
        f"<dt>Name</dt><dd>{escape(data.name)}</dd>"
        f'<dt>Number</dt><dd id="masked-number">{escape(data.masked_number)}</dd>'
        f"<dt>Date of birth</dt><dd>{escape(data.date_of_birth)}</dd>"
        f"<dt>Gender</dt><dd>{escape(data.gender)}</dd>"
        f"<dt>Care of</dt><dd>{escape(address.care_of)}</dd>"
        f'<dt>Address</dt><dd id="address">{escape(", ".join(p for p in parts if p))}</dd>'
        f"<dt>Check</dt><dd>{verified}</dd></dl></div>"
    )


def _document_form(request_id: str, doc_type: str, documents: list[CatalogueDocument]) -> str:
    if not documents:
        return (
            f"<li>{escape(doc_type)}: not in the catalogue yet (run "
            "<code>digilocker-gateway catalogue refresh</code>).</li>"
        )
    first = documents[0]
    if len(documents) == 1:
        issuer = (
            f'<input type="hidden" name="orgId" value="{escape(first.org_id)}">'
            f'<p class="sub">Issued by {escape(first.org_name)}</p>'
        )
    else:
        options = "".join(
            f'<option value="{escape(item.org_id)}">{escape(item.org_name)}</option>'
            for item in documents
        )
        field_id = f"org-{escape(doc_type)}"
        issuer = (
            f'<label for="{field_id}">Issuer</label>'
            f'<select id="{field_id}" name="orgId">{options}</select>'
        )
    inputs = "".join(
        f'<label for="p-{escape(doc_type)}-{escape(parameter.name)}">'
        f"{escape(parameter.description or parameter.name)}</label>"
        f'<input type="text" id="p-{escape(doc_type)}-{escape(parameter.name)}" '
        f'name="param.{escape(parameter.name)}" autocomplete="off">'
        for parameter in first.parameters
    )
    return (
        f'<li><form method="post" action="/demo/requests/{escape(request_id)}/document" '
        f'aria-label="Fetch {escape(first.description or doc_type)}">'
        f"<strong>{escape(first.description or doc_type)}</strong> <small>({escape(doc_type)})"
        f'</small><input type="hidden" name="docType" value="{escape(doc_type)}">{issuer}'
        f'{inputs}<button type="submit">Fetch {escape(doc_type)}</button></form></li>'
    )


def request_page(view: RequestView) -> str:
    status = view.status
    request_id = status.id
    consented = [doc for doc in view.consented if doc != "ADHAR"]
    chosen = ", ".join(view.consented) if view.consented else "none reported"
    fetched = ""
    if view.fetched is not None:
        link = f"/demo/view?file={escape(view.fetched.file_url)}"
        fetched = (
            f'<div class="ok" role="status">{escape(view.fetched_label)} fetched'
            f"{' (parameters verified)' if view.fetched.parameters_verified else ''}. "
            f'<a id="open-document" href="{link}" target="_blank" rel="noopener">Open the '
            "document</a></div>"
        )
    forms = "".join(
        _document_form(request_id, doc_type, view.documents.get(doc_type, []))
        for doc_type in consented
    )
    documents = (
        f'<div class="card"><h2>Documents</h2>{fetched}<ul class="docs">{forms}</ul></div>'
        if consented or fetched
        else ""
    )
    page = f"/demo/requests/{escape(request_id)}"
    live = f' data-live-status="{page}/status.json" data-page="{page}"'
    return layout(
        "Your verification",
        f'<div class="card"{live}><h1>Your verification</h1>{error_box(view.error)}'
        f"{_details(status)}"
        f'<p class="sub" style="margin-top:12px">Shared: <span id="consented">{escape(chosen)}'
        "</span></p>"
        f'<a class="button" href="/demo/requests/{escape(request_id)}">Refresh</a> '
        f'<form method="post" action="/demo/requests/{escape(request_id)}/revoke" '
        'style="display:inline"><button class="danger" type="submit">Revoke access</button>'
        "</form></div>"
        + (_aadhaar(request_id, view.aadhaar) if status.status == "authenticated" else "")
        + (documents if status.status == "authenticated" else ""),
    )


# The live status refresh: the page works without it (the Refresh link).
SCRIPT = """
(function () {
  var card = document.querySelector('[data-live-status]');
  if (!card) { return; }
  var url = card.getAttribute('data-live-status');
  var output = document.getElementById('status');
  function poll() {
    fetch(url, {headers: {'accept': 'application/json'}}).then(function (r) {
      return r.ok ? r.json() : null;
    }).then(function (body) {
      if (body && output && output.textContent !== body.status) {
        // The page shows other sections per status: load it afresh (a GET, never a re-POST).
        output.textContent = body.status;
        window.location.assign(card.getAttribute('data-page'));
      }
    }).catch(function () {}).then(function () { setTimeout(poll, 2000); });
  }
  setTimeout(poll, 2000);
})();
"""
