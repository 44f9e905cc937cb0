"""The frame of every page (head, header, sign-out form) and the style sheet: plain HTML,
readable on a projector and on a phone, WCAG AA contrast (text ≥ 4.5:1, lines ≥ 3:1)."""

from __future__ import annotations

from html import escape

from cxfield.hub.accounts import Caller

CSS = """
:root{--ink:#1b1b1b;--muted:#595959;--line:#1a4b8c;--flag:#b3261e;--rule:#c8c8c8;--soft:#f3f5f9}
*{box-sizing:border-box}
body{margin:0;font:16px/1.45 "DejaVu Sans",Arial,sans-serif;color:var(--ink);background:#fff}
a{color:#0b4f9c}
a:focus,button:focus,input:focus,select:focus,summary:focus{outline:3px solid #c05600;
 outline-offset:2px}

header.top{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:center;
 justify-content:space-between;
 padding:.6rem 1rem;background:#12284a;color:#fff}
header.top a{color:#fff}header.top form{display:inline}
header.top button{background:#fff;color:#12284a;border:0;padding:.3rem .7rem;border-radius:4px;
 font:inherit}

main{padding:0 1rem 3rem;max-width:1800px;margin:0 auto}
h1{font-size:1.6rem;margin:1rem 0 .3rem}
h2{font-size:1.25rem;margin:1.8rem 0 .5rem;border-bottom:2px solid var(--rule)}
.muted{color:var(--muted)}.flag{color:var(--flag);font-weight:bold}
.swatch{display:inline-block;width:1.6rem;height:0;vertical-align:middle;
 border-top:3px solid var(--line)}.swatch.staff{border-top:3px dashed #8a4b00}
.caution{background:var(--soft);padding:.5rem .8rem;border-left:4px solid var(--rule)}
.sr-only{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);
 white-space:nowrap}

.skip{position:absolute;left:-999px}
.skip:focus{left:1rem;top:.5rem;background:#fff;color:#000;padding:.3rem;z-index:9}
form.filters{display:flex;flex-wrap:wrap;gap:.6rem 1rem;align-items:flex-end;
 background:var(--soft);padding:.8rem;border-radius:6px}

form.filters label{display:flex;flex-direction:column;font-size:.9rem}
form.filters fieldset{border:1px solid var(--rule);border-radius:4px;padding:.2rem .6rem;
 display:flex;flex-wrap:wrap;gap:.1rem .8rem;margin:0}
form.filters fieldset label{flex-direction:row;gap:.3rem;align-items:center}
input,select,button{font:inherit;min-height:2.2rem}
button.primary{background:#1a4b8c;color:#fff;border:0;border-radius:4px;padding:.3rem 1rem}
.exports a{display:inline-block;margin:.2rem .6rem .2rem 0}
.scroll{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;margin:.4rem 0}
th,td{border:1px solid var(--rule);padding:.3rem .5rem;vertical-align:top}
th{background:var(--soft);text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums}
table.map td,table.map th{width:9rem;min-width:8rem}table.map th.lane{width:7rem;min-width:6rem}
.card{font-size:.9rem}.card b{display:block}
.panels{display:flex;flex-wrap:wrap;gap:.5rem}
.panel-box{margin:0;border:1px solid var(--rule);border-radius:4px;padding:.2rem}
svg.chart{max-width:100%;height:auto}svg.panel{max-width:100%;height:auto}
ul.gaps li{margin:.2rem 0}
.error{background:#fdecea;border-left:5px solid var(--flag);padding:.6rem}
.notice{background:#eef4fb;border-left:5px solid var(--line);padding:.6rem}
code.token{word-break:break-all;font-size:1.05rem;background:#f4f4f4;padding:.2rem}
@media (max-width:700px){body{font-size:15px}main{padding:0 .5rem 2rem}h1{font-size:1.3rem}}
"""


def page(title: str, body: str, caller: Caller | None = None, csrf: str = "") -> str:
    """A whole HTML document."""
    who = ""
    if caller is not None:
        account = caller.account
        who = f"<span>{escape(account.name)} ({escape(account.role)})</span>"
        if csrf:
            who += (
                '<form method="post" action="/signout">'
                f'<input type="hidden" name="csrf" value="{escape(csrf)}">'
                '<button type="submit">Sign out</button></form>'
            )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)} · cxfield hub</title>"
        '<link rel="stylesheet" href="/web.css"></head><body>'
        '<a class="skip" href="#main">Skip to content</a>'
        f'<header class="top"><a href="/"><b>cxfield hub</b></a><div>{who}</div></header>'
        f'<main id="main">{body}</main></body></html>'
    )


def signin_form(csrf: str, next_url: str, message: str = "") -> str:
    error = f'<p class="error" role="alert">{escape(message)}</p>' if message else ""
    return (
        "<h1>Sign in</h1>"
        "<p>Paste the token an admin gave you (from <code>cxfield hub users add NAME "
        "--role viewer</code>). You stay signed in on this browser for 12 hours.</p>"
        f"{error}"
        '<form method="post" action="/signin" class="filters">'
        f'<input type="hidden" name="csrf" value="{escape(csrf)}">'
        f'<input type="hidden" name="next" value="{escape(next_url)}">'
        '<label for="token">Token<input id="token" name="token" type="password" '
        'autocomplete="off" required size="48" autofocus></label>'
        '<button class="primary" type="submit">Sign in</button></form>'
    )


def token_shown_once(token: str, next_url: str) -> str:
    return (
        "<h1>Signed in</h1>"
        '<div class="notice" role="status"><p>Your enrolment token was used up. This is '
        "your personal token from now on: keep it somewhere safe to sign in again, or "
        "send it as <code>Authorization: Bearer TOKEN</code> from scripts. It is shown "
        "only this once.</p>"
        f'<p><code class="token">{escape(token)}</code></p></div>'
        f'<p><a href="{escape(next_url)}">Continue</a></p>'
    )
