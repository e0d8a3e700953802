"""The journey's HTML: a DigiLocker-like sign-in card, inline CSS, no scripts, no external assets.

Automation contract (docs/simulator.md): every journey page has exactly one POST <form>, whose
`data-step` names the page (`identify`, `otp`, `pin`, `account`, `consent`); inputs are named
`identifier`, `otp`, `pin`, `username`; consent checkboxes `doctype` (value = DOCTYPE); the final
buttons are `<button name="decision" value="allow|deny">`; the hidden `txn` carries the journey.
Errors sit in the one element with `role="alert"`. The consent page shows what the app asked
for in elements with fixed ids: `purpose`, `consent-valid-till`, `shared-scopes`, `journey`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from html import escape
from typing import Literal

from starlette.responses import HTMLResponse

from digilocker_gateway.kit.timefmt import IST

_CSS = """
*{box-sizing:border-box}
body{margin:0;font-family:"Segoe UI",Roboto,Helvetica,Arial,sans-serif;background:#eef1f8;
color:#1d2433}
header{background:#23408e;color:#fff;padding:14px 24px;display:flex;align-items:center;gap:12px}
.logo{width:34px;height:34px;border-radius:8px;background:#fff;color:#23408e;font-weight:700;
display:flex;align-items:center;justify-content:center;font-size:18px}
.brand{font-size:20px;font-weight:600;letter-spacing:.3px}
.badge{margin-left:auto;background:#f7b731;color:#3b2a00;border-radius:12px;padding:3px 10px;
font-size:12px;font-weight:600}
main{display:flex;justify-content:center;padding:40px 16px}
.card{background:#fff;border-radius:12px;box-shadow:0 4px 18px rgba(20,40,90,.12);
width:100%;max-width:440px;padding:28px 32px}
h1{font-size:21px;margin:0 0 6px}
p.sub{color:#5a6478;margin:0 0 20px;font-size:14px}
label{display:block;font-size:13px;font-weight:600;margin:14px 0 6px}
input[type=text],input[type=password]{width:100%;padding:11px 12px;border:1px solid #c5cbe0;
border-radius:8px;font-size:16px;letter-spacing:1px}
button{width:100%;margin-top:20px;padding:12px;border:0;border-radius:8px;background:#23408e;
color:#fff;font-size:16px;font-weight:600;cursor:pointer}
button.secondary{background:#fff;color:#23408e;border:1px solid #23408e;margin-top:10px}
.alert{background:#fdecec;color:#a3192b;border-radius:8px;padding:10px 12px;font-size:14px;
margin-bottom:12px}
.hint{font-size:12px;color:#7a8399;margin-top:8px}
ul.docs{list-style:none;padding:0;margin:8px 0 0}
ul.docs li{border:1px solid #dde2f0;border-radius:8px;padding:10px 12px;margin-bottom:8px}
ul.docs label{display:flex;gap:10px;margin:0;font-weight:400;align-items:flex-start}
.doc-name{font-weight:600}.doc-issuer{font-size:12px;color:#6b7489}
footer{text-align:center;font-size:12px;color:#7a8399;padding-bottom:24px}
.purpose{background:#f3f6fd;border-left:4px solid #23408e;padding:8px 12px;font-size:14px;
overflow-wrap:anywhere}
ul.shared{font-size:13px;color:#3a4458;padding-left:20px;margin:6px 0 0}
"""

# What each resource scope lets the app read, in the consent page's words.
SCOPE_TEXT = {
    "userdetails": "Your profile: name, date of birth, gender, mobile and email",
    "files.issueddocs": "The list of your issued documents",
    "files.uploadeddocs": "Your uploaded documents (DigiLocker Drive)",
}


@dataclass(frozen=True, slots=True)
class ConsentItem:
    doctype: str
    name: str
    issuer: str
    checked: bool


@dataclass(frozen=True, slots=True)
class JourneySummary:
    """How the user got to the consent page, shown there (the `journey` element)."""

    flow: Literal["signin", "signup"]
    new_account: bool
    pin: Literal["entered", "set", "none"]
    username: str | None


def _layout(title: str, content: str) -> str:
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)} | DigiLocker (simulator)</title><style>{_CSS}</style></head>"
        '<body><header><div class="logo">D</div><div class="brand">DigiLocker</div>'
        '<span class="badge">SIMULATOR · synthetic data</span></header>'
        f'<main><div class="card">{content}</div></main>'
        "<footer>A local DigiLocker simulator for development. Not affiliated with "
        "DigiLocker or MeitY.</footer></body></html>"
    )


def _alert(error: str | None) -> str:
    return f'<div class="alert" role="alert">{escape(error)}</div>' if error else ""


def _form(action: str, txn: str, fields: str, step: str) -> str:
    return (
        f'<form method="post" action="{escape(action)}" data-step="{step}">'
        f'<input type="hidden" name="txn" value="{escape(txn)}">{fields}</form>'
    )


def _page(title: str, content: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(
        _layout(title, content),
        status_code=status,
        headers={"Cache-Control": "no-store", "X-Frame-Options": "DENY"},
    )


def identifier_page(
    action: str,
    txn: str,
    *,
    app_name: str,
    signup: bool,
    prefill: str | None = None,
    error: str | None = None,
) -> HTMLResponse:
    if signup:
        title, lead = "Create your DigiLocker account", "Enter your Aadhaar number to sign up."
        label, hint = "Aadhaar number", "An OTP will be sent to the mobile linked with Aadhaar."
    else:
        title, lead = "Sign in to your account!", f"{app_name} wants to access your DigiLocker."
        label, hint = "Aadhaar number or mobile number", "12-digit Aadhaar or 10-digit mobile."
    value = f' value="{escape(prefill)}"' if prefill else ""
    fields = (
        f'<label for="identifier">{label}</label>'
        f'<input type="text" id="identifier" name="identifier"{value} inputmode="numeric" '
        'autocomplete="off" maxlength="12" required autofocus>'
        f'<div class="hint">{hint}</div><button type="submit">Next</button>'
    )
    content = (
        f"<h1>{escape(title)}</h1><p class='sub'>{escape(lead)}</p>"
        f"{_alert(error)}{_form(action, txn, fields, 'identify')}"
    )
    return _page(title, content)


def otp_page(
    action: str, txn: str, *, masked_mobile: str, error: str | None = None
) -> HTMLResponse:
    fields = (
        '<label for="otp">One-time password</label>'
        '<input type="text" id="otp" name="otp" inputmode="numeric" autocomplete="one-time-code" '
        'maxlength="6" required autofocus><button type="submit">Verify OTP</button>'
    )
    lead = f"We sent a 6-digit OTP to your mobile number {masked_mobile}."
    content = (
        f"<h1>Enter OTP</h1><p class='sub'>{escape(lead)}</p>{_alert(error)}"
        f"{_form(action, txn, fields, 'otp')}"
    )
    return _page("Enter OTP", content)


def _pin_input(label: str) -> str:
    return (
        f'<label for="pin">{label}</label>'
        '<input type="password" id="pin" name="pin" inputmode="numeric" maxlength="6" required>'
    )


def pin_page(action: str, txn: str, *, error: str | None = None) -> HTMLResponse:
    """Sign-in's security PIN."""
    title, lead = "Enter your security PIN", "Enter the 6-digit PIN of your DigiLocker."
    fields = f'{_pin_input("6-digit security PIN")}<button type="submit">Continue</button>'
    content = (
        f"<h1>{title}</h1><p class='sub'>{lead}</p>{_alert(error)}"
        f"{_form(action, txn, fields, 'pin')}"
    )
    return _page(title, content)


def account_page(
    action: str,
    txn: str,
    *,
    ask_username: bool,
    ask_pin: bool,
    username: str | None = None,
    error: str | None = None,
) -> HTMLResponse:
    """Sign-up's last step: a username (unless usernameless) and a PIN (unless PIN-less)."""
    title = "Set up your account"
    lead = (
        "Choose "
        + " and ".join(
            part
            for part, asked in (("a username", ask_username), ("a 6-digit security PIN", ask_pin))
            if asked
        )
        + " for your new DigiLocker account."
    )
    value = f' value="{escape(username)}"' if username else ""
    fields = ""
    if ask_username:
        fields += (
            '<label for="username">Username</label>'
            f'<input type="text" id="username" name="username"{value} autocomplete="username" '
            'maxlength="30" required>'
            '<div class="hint">4-30 letters, digits, dots, dashes or underscores.</div>'
        )
    if ask_pin:
        fields += _pin_input("Set a 6-digit security PIN")
    fields += '<button type="submit">Create account</button>'
    content = (
        f"<h1>{title}</h1><p class='sub'>{escape(lead)}</p>{_alert(error)}"
        f"{_form(action, txn, fields, 'account')}"
    )
    return _page(title, content)


def _summary(summary: JourneySummary) -> str:
    if summary.flow == "signup":
        text = "New DigiLocker account created"
        if summary.username:
            text += f" for {summary.username}"
    else:
        text = "Signed in"
    text += {
        "entered": " with OTP and security PIN.",
        "set": " with OTP; security PIN set.",
        "none": " without a security PIN.",
    }[summary.pin]
    return (
        f'<p class="hint" id="journey" data-flow="{summary.flow}" '
        f'data-new-account="{"Y" if summary.new_account else "N"}" '
        f'data-pin="{summary.pin}">{escape(text)}</p>'
    )


def consent_page(
    action: str,
    txn: str,
    *,
    app_name: str,
    user_name: str,
    items: list[ConsentItem],
    shared: list[str],
    purpose: str | None,
    consent_valid_till: datetime,
    summary: JourneySummary,
) -> HTMLResponse:
    rows = "".join(
        "<li><label>"
        f'<input type="checkbox" name="doctype" value="{escape(item.doctype)}"'
        f"{' checked' if item.checked else ''}>"
        f'<span><span class="doc-name">{escape(item.name)}</span><br>'
        f'<span class="doc-issuer">{escape(item.issuer)} · {escape(item.doctype)}</span>'
        "</span></label></li>"
        for item in items
    )
    listing = f'<ul class="docs">{rows}</ul>' if items else "<p>No documents to share.</p>"
    also = "".join(
        f'<li data-scope="{escape(scope)}">{escape(SCOPE_TEXT[scope])}</li>' for scope in shared
    )
    until = consent_valid_till.astimezone(IST)
    validity = (
        f'<p class="hint" id="consent-valid-till">Consent valid till '
        f'<time datetime="{until.isoformat(timespec="seconds")}">'
        f"{until.strftime('%d %b %Y, %H:%M')} IST</time></p>"
    )
    reason = (
        f'<p class="purpose" id="purpose"><strong>Purpose:</strong> {escape(purpose)}</p>'
        if purpose
        else ""
    )
    fields = (
        f"{listing}"
        f'<p class="hint">Also shared:</p><ul class="shared" id="shared-scopes">{also}</ul>'
        f"{validity}"
        '<p class="hint">The documents ticked above will be shared. '
        "Consent can be revoked from your DigiLocker account.</p>"
        '<button type="submit" name="decision" value="allow">Allow</button>'
        '<button type="submit" name="decision" value="deny" class="secondary">Deny</button>'
    )
    lead = f"Hello {user_name}. {app_name} is requesting access to:"
    content = (
        f"<h1>Please provide your consent</h1>{_summary(summary)}"
        f"<p class='sub'>{escape(lead)}</p>{reason}"
        f"{_form(action, txn, fields, 'consent')}"
    )
    return _page("Consent", content)


def error_page(message: str, status: int = 400) -> HTMLResponse:
    content = f"<h1>Something went wrong</h1>{_alert(message)}"
    return _page("Error", content, status)
