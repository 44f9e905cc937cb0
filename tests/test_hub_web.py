"""The hub's shared-map pages over HTTP: sign-in and its cookie, who sees what, filters in
the URL, and the page's numbers against the database, the report PDF and the CSV tables."""

from __future__ import annotations

import csv
import io
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from cxfield.hub import accounts
from cxfield.hub import storage as t
from tests.web_support import (
    PDF_ROW,
    SyncedStudy,
    expected_gaps,
    ratings,
    sessions_selected,
    step_names,
    two_laptops,
)

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> Any:
    study = two_laptops(tmp_path_factory.mktemp("web"))
    yield study
    study.team.close()


def _client(synced: SyncedStudy) -> TestClient:
    return TestClient(synced.team.app, follow_redirects=False)


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html[:500]
    return found.group(1)


def _device_token(synced: SyncedStudy, name: str, role: str) -> str:
    """A device token of a new account (what a script sends as Bearer)."""
    _info, enrol = accounts.add_user(synced.engine, name, role)
    token, _id, _account = accounts.enrol(synced.engine, enrol, f"script-{name}", "script")
    return token


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _steps_table(html: str) -> dict[str, tuple[int, str]]:
    """step name -> (n, mean) from the page's table alternative."""
    body = html.split('id="steps-table"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(
        r'<th scope="row">\d+\. ([^<]+)</th><td>[^<]*</td><td class="num">\d+</td>'
        r'<td class="num" data-n="[^"]+">(\d+)</td><td class="num">([^<]+)</td>',
        body,
    )
    return {name: (int(n), mean) for name, n, mean in rows}


def test_without_sign_in_no_study_data_is_shown(synced: SyncedStudy) -> None:
    client = _client(synced)
    for path in ("/", f"/studies/{synced.study_id}", f"/studies/{synced.study_id}/steps.csv"):
        answer = client.get(path)
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/signin?next=")
    bad = client.get(f"/studies/{synced.study_id}", headers=_bearer("not-a-token"))
    assert bad.status_code == 401
    assert "Check in" not in bad.text


def test_sign_in_sets_an_httponly_cookie_and_sign_out_ends_it(synced: SyncedStudy) -> None:
    client = _client(synced)
    _info, enrol = accounts.add_user(synced.engine, "Lea Viewer", "viewer")
    form = client.get("/signin?next=/studies/" + synced.study_id)
    # a forged form (no matching CSRF cookie value) is refused and signs nobody in
    forged = client.post("/signin", data={"token": enrol, "csrf": "x" * 43, "next": "/"})
    assert forged.status_code == 403 and "cxfield_session" not in forged.headers.get(
        "set-cookie", ""
    )
    form = client.get("/signin")
    wrong = client.post("/signin", data={"token": "nope", "csrf": _csrf(form.text), "next": "/"})
    assert wrong.status_code == 401 and "not valid on this hub" in wrong.text
    form = client.get("/signin")
    done = client.post(
        "/signin", data={"token": enrol, "csrf": _csrf(form.text), "next": "//evil.example"}
    )
    assert done.status_code == 200
    cookie = done.headers["set-cookie"]
    assert "cxfield_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    personal = re.search(r'<code class="token">([^<]+)</code>', done.text)
    assert personal and 'href="/"' in done.text  # the open redirect went home instead
    page = client.get(f"/studies/{synced.study_id}")
    assert page.status_code == 200 and "Lea Viewer (viewer)" in page.text
    # the enrolment token is used up; the personal token now works for scripts
    assert client.post("/signin", data={"token": enrol, "csrf": "y", "next": "/"}).status_code
    assert TestClient(synced.team.app).get("/", headers=_bearer(personal.group(1))).status_code
    refused = client.post("/signout", data={"csrf": "wrong"})
    assert refused.status_code == 403
    assert client.get("/").status_code == 200
    out = client.post("/signout", data={"csrf": _csrf(page.text)})
    assert out.status_code == 303
    client.cookies.clear()
    client.cookies.set("cxfield_session", cookie.split("=", 1)[1].split(";", 1)[0])
    assert client.get("/").status_code == 303  # the old cookie opens nothing any more


def test_a_web_session_ends_with_its_token_and_at_expiry(synced: SyncedStudy) -> None:
    token = _device_token(synced, "Max Viewer", "viewer")
    client = _client(synced)
    form = client.get("/signin")
    client.post("/signin", data={"token": token, "csrf": _csrf(form.text), "next": "/"})
    assert client.get("/").status_code == 200
    with synced.engine.begin() as conn:
        conn.execute(update(t.web_session).values(expires_at=t.web_session.c.created_at))
    assert client.get("/").status_code == 303
    form = client.get("/signin")
    client.post("/signin", data={"token": token, "csrf": _csrf(form.text), "next": "/"})
    assert client.get("/").status_code == 200
    accounts.revoke_user_tokens(synced.engine, "Max Viewer")
    assert client.get("/").status_code == 303


def test_the_page_counts_what_the_database_holds_and_the_pdf_and_csv_agree(
    synced: SyncedStudy, tmp_path: Path
) -> None:
    viewer = _bearer(_device_token(synced, "Numbers Viewer", "viewer"))
    client = _client(synced)
    page = client.get(f"/studies/{synced.study_id}", headers=viewer)
    assert page.status_code == 200
    table = _steps_table(page.text)
    chosen = sessions_selected(synced.engine, synced.study_id)
    expected = {
        step_names(synced.engine, synced.study_id)[step]: len(values)
        for step, values in ratings(synced.engine, chosen).items()
    }
    assert {name: n for name, (n, _mean) in table.items()} == expected
    assert f"<b>{len(chosen) + 0}</b> sessions" in page.text or "observations" in page.text
    # the flagged equity gaps are those the stored rows give
    gaps = re.findall(r'<li class="gap">(.+?)</li>', page.text)
    want = expected_gaps(synced.engine, synced.study_id, "language", chosen)
    got = {
        (m["value"], m["step"], int(m["n"]), int(m["rest"]))
        for m in (
            re.match(
                r"(?P<value>.+?) \(.+?\) rated (?P<step>.+?) \d\.\d points \w+ than the rest, "
                r"n = (?P<n>\d+) vs (?P<rest>\d+)",
                g,
            )
            for g in gaps
        )
        if m
    }
    assert got == want and want, (got, want)
    # the CSV of the same selection
    answer = client.get(f"/studies/{synced.study_id}/steps.csv", headers=viewer)
    assert answer.content.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig"))))
    from_csv = {r["step"]: (int(r["n"]), float(r["mean"])) for r in rows if int(r["n"])}
    assert {k: v[0] for k, v in from_csv.items()} == expected
    for name, (_n, mean) in table.items():
        if mean != "–":
            assert float(mean.replace("−", "-")) == pytest.approx(from_csv[name][1], abs=0.0056)
    # and the study report PDF the hub renders
    pdf = client.get(f"/studies/{synced.study_id}/report.pdf", headers=viewer)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    (tmp_path / "r.pdf").write_bytes(pdf.content)
    text = subprocess.run(
        ["pdftotext", "-layout", str(tmp_path / "r.pdf"), "-"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    in_pdf = {
        m["step"]: (int(m["n"]), m["mean"]) for m in map(PDF_ROW.match, text.splitlines()) if m
    }
    assert {name: n for name, (n, _m) in in_pdf.items() if n} == expected
    for name, (n, mean) in table.items():
        assert in_pdf[name] == (n, mean)


def test_a_filter_in_the_url_changes_the_numbers_and_a_bad_one_says_why(
    synced: SyncedStudy,
) -> None:
    viewer = _bearer(_device_token(synced, "Filter Viewer", "viewer"))
    client = _client(synced)
    sites = {s["name"]: s["id"] for s in __import__("tests.web_support").web_support.stored(
        synced.engine, "site")}  # fmt: skip
    name, site_id = sorted(sites.items())[0]
    statuses = ("approved", "submitted")
    query = f"site={site_id}&status=approved&status=submitted"
    page = client.get(f"/studies/{synced.study_id}?{query}", headers=viewer)
    chosen = sessions_selected(synced.engine, synced.study_id, statuses, site_id=site_id)
    expected = {
        step_names(synced.engine, synced.study_id)[step]: len(values)
        for step, values in ratings(synced.engine, chosen).items()
    }
    assert {n: v[0] for n, v in _steps_table(page.text).items()} == expected
    assert f"Site: {name}" in page.text
    bad = client.get(f"/studies/{synced.study_id}?from=yesterday", headers=viewer)
    assert bad.status_code == 400
    assert "is not a date; write it like 2026-03-31." in bad.text
    assert client.get(f"/studies/{synced.study_id}?status=lost", headers=viewer).status_code == 400


def test_a_researcher_sees_aggregates_of_their_own_sessions_only(synced: SyncedStudy) -> None:
    _info, enrol = accounts.issue_enrolment(synced.engine, "Ben")
    token, _id, info = accounts.enrol(synced.engine, enrol, "ben-browser", "browser")
    client = _client(synced)
    page = client.get(f"/studies/{synced.study_id}", headers=_bearer(token))
    own = sessions_selected(synced.engine, synced.study_id, owner=info.id)
    everyone = sessions_selected(synced.engine, synced.study_id)
    assert 0 < len(own) < len(everyone)
    expected = {
        step_names(synced.engine, synced.study_id)[step]: len(values)
        for step, values in ratings(synced.engine, own).items()
    }
    assert {n: v[0] for n, v in _steps_table(page.text).items()} == expected
    assert "only your own" in page.text
    rows = client.get(f"/studies/{synced.study_id}/steps.csv", headers=_bearer(token))
    got = {r["step"]: int(r["n"]) for r in csv.DictReader(io.StringIO(rows.text.lstrip("\ufeff")))}
    assert {k: v for k, v in got.items() if v} == expected
    # a viewer does not sync: the sync API stays closed to it
    viewer = _device_token(synced, "Api Viewer", "viewer")
    assert client.get("/v1/changes?since=0", headers=_bearer(viewer)).status_code == 403


def test_quotes_show_only_when_the_study_setting_allows(synced: SyncedStudy) -> None:
    from cxfield.hub.web.data import set_quotes

    viewer = _bearer(_device_token(synced, "Quote Viewer", "viewer"))
    client = _client(synced)
    quotes = [
        q["quote"].strip() for q in __import__("tests.web_support").web_support.stored(
            synced.engine, "step_capture") if q["quote"].strip()
    ]  # fmt: skip
    assert quotes
    page = client.get(f"/studies/{synced.study_id}?status=approved", headers=viewer)
    assert "Quotes are not shown for this study" in page.text
    assert not any(q.strip('"“”') in page.text for q in quotes)
    set_quotes(synced.engine, synced.study_id, True)
    try:
        page = client.get(f"/studies/{synced.study_id}", headers=viewer)
        assert "<q>" in page.text and "Quotes are not shown" not in page.text
    finally:
        set_quotes(synced.engine, synced.study_id, False)
