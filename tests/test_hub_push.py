"""Push on a real hub database (SQLite and PostgreSQL): per-row answers, idempotency,
deterministic conflicts, ownership rules, merged sites, bad rows."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from cxfield.hub import accounts
from cxfield.storage.models import Note, ResearchSession, Site, Stage, Step, StepCapture, Study
from tests.hub_support import Device, InProcessHub, edited, enrol, push_body, wire


def push(hub: InProcessHub, device: Device, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    answer = hub.client.post(
        "/v1/push", json=push_body(rows, device.device_id), headers=device.headers
    )
    assert answer.status_code == 200, answer.text
    results: list[dict[str, Any]] = answer.json()["results"]
    assert [(r["table"], r["id"]) for r in results] == [(r["table"], r["id"]) for r in rows]
    return results


def feed(hub: InProcessHub, device: Device, since: int = 0) -> dict[str, Any]:
    answer = hub.client.get("/v1/changes", params={"since": since}, headers=device.headers)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def study_rows() -> dict[str, dict[str, Any]]:
    study = Study(name="Benefits office")
    stage = Stage(study_id=study.id, name="Arrive")
    step = Step(study_id=study.id, stage_id=stage.id, name="Queue")
    session = ResearchSession(study_id=study.id)
    capture = StepCapture(session_id=session.id, step_id=step.id, valence=1)
    note = Note(session_id=session.id, text="long queue")
    return {
        name: wire(obj)
        for name, obj in (
            ("study", study),
            ("stage", stage),
            ("step", step),
            ("session", session),
            ("capture", capture),
            ("note", note),
        )
    }


def test_new_rows_are_applied_and_a_replayed_batch_changes_nothing(hub_app: InProcessHub) -> None:
    ana = hub_app.device("Ana")
    rows = list(study_rows().values())
    first = push(hub_app, ana, rows)
    assert [(r["status"], r["version"]) for r in first] == [("applied", 1)] * len(rows)
    before = feed(hub_app, ana)
    assert before["next"] == len(rows)
    assert {(c["table"], c["id"], c["hash"]) for c in before["changes"]} == {
        (r["table"], r["id"], r["hash"]) for r in rows
    }

    replay = push(hub_app, ana, rows)
    assert [(r["status"], r["version"]) for r in replay] == [("duplicate", 1)] * len(rows)
    assert feed(hub_app, ana) == before  # no new seq, nothing rewritten


def test_an_edit_of_the_hub_version_is_applied_as_the_next_version(hub_app: InProcessHub) -> None:
    ana = hub_app.device("Ana")
    rows = study_rows()
    push(hub_app, ana, list(rows.values()))
    note = edited(rows["note"], base=1, text="very long queue")
    assert push(hub_app, ana, [note])[0] == {
        "table": "note",
        "id": note["id"],
        "status": "applied",
        "version": 2,
        "message": None,
        "conflict_id": None,
        "merged_into": None,
        "conflict": None,
    }
    latest = feed(hub_app, ana, since=len(rows))
    assert [(c["id"], c["version"], c["data"]["text"]) for c in latest["changes"]] == [
        (note["id"], 2, "very long queue")
    ]


FIXED_TIME = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def fixed_note_rows() -> list[dict[str, Any]]:
    """The same content (ids, times) every time, so two runs can be compared."""
    study = Study(id="s-1", name="Fixed", created_at=FIXED_TIME, updated_at=FIXED_TIME)
    session = ResearchSession(
        id="ses-1",
        study_id="s-1",
        started_at=FIXED_TIME,
        created_at=FIXED_TIME,
        updated_at=FIXED_TIME,
    )
    note = Note(
        id="n-1", session_id="ses-1", text="v1", created_at=FIXED_TIME, updated_at=FIXED_TIME
    )
    return [wire(study), wire(session), wire(note)]


@pytest.mark.parametrize("laptop_first", [True, False], ids=["laptop-first", "tablet-first"])
def test_a_conflict_keeps_both_versions_and_the_same_winner_whatever_the_order(
    hub_app: InProcessHub, laptop_first: bool
) -> None:
    laptop = hub_app.device("Ana", device_id="laptop")
    _info, token = accounts.issue_enrolment(hub_app.engine, "Ana")  # her second device
    tablet = enrol(hub_app.client, token, "tablet")
    rows = fixed_note_rows()
    push(hub_app, laptop, rows)
    by_laptop = edited(rows[2], base=1, text="laptop text")
    by_tablet = edited(rows[2], base=1, text="tablet text")
    expected = max((by_laptop, by_tablet), key=lambda r: r["hash"])  # the same in both runs

    order = [(laptop, by_laptop), (tablet, by_tablet)]
    if not laptop_first:
        order.reverse()
    (first, first_row), (second, second_row) = order
    assert push(hub_app, first, [first_row])[0]["status"] == "applied"
    result = push(hub_app, second, [second_row])[0]
    assert result["status"] == "conflict"
    assert result["version"] == (3 if expected is second_row else 2)
    info = result["conflict"]
    assert info["id"] == result["conflict_id"]
    assert info["winner_hash"] == expected["hash"]
    assert {info["winner_data"]["text"], info["loser_data"]["text"]} == {
        "laptop text",
        "tablet text",
    }

    stored = [c for c in feed(hub_app, laptop)["changes"] if c["id"] == "n-1"]
    assert [(c["hash"], c["data"]["text"]) for c in stored] == [
        (expected["hash"], expected["data"]["text"])
    ]
    for device in (laptop, tablet):  # in the feed for both devices, with its own seq
        assert [c["id"] for c in feed(hub_app, device)["conflicts"]] == [info["id"]]


def test_replaying_a_losing_push_reports_the_same_conflict_once(hub_app: InProcessHub) -> None:
    sup = hub_app.device("Sam", "supervisor")
    ana = hub_app.device("Ana")
    site = wire(Site(name="North office"))
    push(hub_app, ana, [site])
    x, y = edited(site, 1, location="x"), edited(site, 1, location="y")
    winner, loser = (x, y) if x["hash"] > y["hash"] else (y, x)
    assert push(hub_app, ana, [winner])[0]["status"] == "applied"
    first = push(hub_app, sup, [loser])[0]
    again = push(hub_app, sup, [loser])[0]
    assert first["status"] == again["status"] == "conflict"
    assert first["conflict_id"] == again["conflict_id"]
    assert again["version"] == 2
    listed = hub_app.client.get("/v1/conflicts", headers=sup.headers).json()["conflicts"]
    assert [c["id"] for c in listed] == [first["conflict_id"]]


def test_a_device_editing_on_top_of_its_own_unacknowledged_push_is_not_a_conflict(
    hub_app: InProcessHub,
) -> None:
    ana = hub_app.device("Ana")
    site = wire(Site(name="West office"))
    push(hub_app, ana, [site])  # suppose this answer was lost: the laptop still has base 0
    later = edited(site, base=0, location="2nd floor")
    assert push(hub_app, ana, [later])[0]["status"] == "applied"
    other = hub_app.device("Bo")
    stale = edited(site, base=1, location="3rd floor")
    assert push(hub_app, other, [stale])[0]["status"] == "conflict"


def test_a_base_newer_than_the_hub_is_invalid(hub_app: InProcessHub) -> None:
    ana = hub_app.device("Ana")
    site = wire(Site(name="East office"))
    push(hub_app, ana, [site])
    result = push(hub_app, ana, [edited(site, base=5, location="z")])[0]
    assert result["status"] == "invalid"
    assert "newer than the hub" in result["message"]


def test_bad_rows_are_invalid_with_a_reason_and_the_rest_of_the_batch_is_applied(
    hub_app: InProcessHub,
) -> None:
    ana = hub_app.device("Ana")
    good = wire(Site(name="Good office"))
    base = wire(Site(name="Other office"))
    bad = [
        {**base, "table": "no_such_table"},
        {**base, "hash": "0" * 64},
        edited(base, 0, location=5),
        edited(base, 0, surprise="x"),
        {
            **base,
            "data": {k: v for k, v in base["data"].items() if k != "name"},
            "hash": edited(
                {**base, "data": {k: v for k, v in base["data"].items() if k != "name"}}, 0
            )["hash"],
        },
        edited(base, 0, created_at="yesterday"),
        edited(base, 0, id="another-id"),
    ]
    results = push(hub_app, ana, [*bad, good])
    assert [r["status"] for r in results] == ["invalid"] * len(bad) + ["applied"]
    messages = [r["message"] for r in results[:-1]]
    assert "Unknown table" in messages[0]
    assert "hash" in messages[1]
    assert "site.location must be text" in messages[2]
    assert "Unknown column site.surprise" in messages[3]
    assert "Missing column site.name" in messages[4]
    assert "site.created_at must be an ISO-8601 time" in messages[5]
    assert "data.id" in messages[6]
    assert [c["id"] for c in feed(hub_app, ana)["changes"]] == [good["id"]]


def test_a_researcher_cannot_change_another_researchers_map_or_sessions(
    hub_app: InProcessHub,
) -> None:
    ana, bo = hub_app.device("Ana"), hub_app.device("Bo")
    sam = hub_app.device("Sam", "supervisor")
    rows = study_rows()
    push(hub_app, ana, list(rows.values()))
    renamed = edited(rows["study"], 1, name="Bo's name")
    new_stage = wire(Stage(study_id=rows["study"]["id"], name="Leave"))
    capture = edited(rows["capture"], 1, valence=-2)
    own_note = wire(Note(session_id=rows["session"]["id"], text="Bo was here"))
    results = push(hub_app, bo, [renamed, new_stage, capture, own_note])
    assert [r["status"] for r in results] == ["forbidden"] * 4
    assert results[0]["message"] == (
        "Only the study's owner or a supervisor can change its journey map, consent text "
        "or segments."
    )
    assert "another researcher" in results[2]["message"]
    # a supervisor may; the rows stay Ana's (she still sees them)
    results = push(hub_app, sam, [renamed, new_stage, capture])
    assert [r["status"] for r in results] == ["applied"] * 3
    ana_sees = {c["id"]: c for c in feed(hub_app, ana)["changes"]}
    assert ana_sees[rows["capture"]["id"]]["data"]["valence"] == -2
    assert ana_sees[rows["study"]["id"]]["data"]["name"] == "Bo's name"


def test_researchers_see_team_data_and_only_their_own_sessions(hub_app: InProcessHub) -> None:
    ana, bo = hub_app.device("Ana"), hub_app.device("Bo")
    sam = hub_app.device("Sam", "supervisor")
    rows = study_rows()
    push(hub_app, ana, list(rows.values()))
    bo_session = wire(ResearchSession(study_id=rows["study"]["id"]))
    push(hub_app, bo, [bo_session])

    def ids(device: Device) -> set[str]:
        return {c["id"] for c in feed(hub_app, device)["changes"]}

    team = {rows[k]["id"] for k in ("study", "stage", "step")}
    anas = {rows[k]["id"] for k in ("session", "capture", "note")}
    assert ids(bo) == team | {bo_session["id"]}
    assert ids(ana) == team | anas
    assert ids(sam) == team | anas | {bo_session["id"]}
    # invisible rows are skipped but the cursor moves past them
    page = feed(hub_app, bo, since=3)
    assert page["next"] == 7 and [c["id"] for c in page["changes"]] == [bo_session["id"]]

    assert (
        hub_app.client.get(f"/v1/sessions/{rows['session']['id']}", headers=bo.headers).status_code
        == 403
    )
    mine = hub_app.client.get(f"/v1/sessions/{rows['session']['id']}", headers=ana.headers)
    assert mine.status_code == 200
    assert {r["id"] for r in mine.json()["rows"]} == anas
    assert (
        hub_app.client.get(f"/v1/sessions/{rows['session']['id']}", headers=sam.headers).status_code
        == 200
    )
    assert hub_app.client.get("/v1/sessions/nope", headers=sam.headers).status_code == 404


def test_pages_follow_the_seq_and_say_when_there_is_more(hub_app: InProcessHub) -> None:
    ana = hub_app.device("Ana")
    sites = [wire(Site(name=f"Office {i}")) for i in range(7)]
    push(hub_app, ana, sites)
    seen, since, pages = [], 0, 0
    while True:
        answer = hub_app.client.get(
            "/v1/changes", params={"since": since, "limit": 3}, headers=ana.headers
        )
        body = answer.json()
        seen += [c["id"] for c in body["changes"]]
        since, pages = body["next"], pages + 1
        if not body["more"]:
            break
    assert seen == [s["id"] for s in sites] and pages == 3


def test_the_same_site_made_on_two_laptops_is_merged_into_the_first(hub_app: InProcessHub) -> None:
    ana, bo = hub_app.device("Ana"), hub_app.device("Bo")
    first = wire(Site(name="Downtown Office"))
    second = wire(Site(name="  downtown   office "))
    push(hub_app, ana, [first])
    result = push(hub_app, bo, [second])[0]
    assert (result["status"], result["merged_into"], result["version"]) == (
        "duplicate",
        first["id"],
        1,
    )
    assert [c["id"] for c in feed(hub_app, bo)["changes"]] == [first["id"]]
    # a tombstone frees the name
    gone = edited(first, 1, deleted_at="2026-01-01T00:00:00.000000Z")
    assert push(hub_app, ana, [gone])[0]["status"] == "applied"
    assert push(hub_app, bo, [second])[0]["status"] == "applied"


def test_tombstones_travel_as_changes(hub_app: InProcessHub) -> None:
    ana = hub_app.device("Ana")
    rows = study_rows()
    push(hub_app, ana, list(rows.values()))
    gone = edited(rows["note"], 1, deleted_at="2026-02-03T04:05:06.000000Z")
    assert push(hub_app, ana, [gone])[0]["status"] == "applied"
    assert push(hub_app, ana, [gone])[0]["status"] == "duplicate"
    last = feed(hub_app, ana, since=len(rows))["changes"]
    assert [(c["id"], c["data"]["deleted_at"]) for c in last] == [
        (gone["id"], "2026-02-03T04:05:06.000000Z")
    ]


def test_resolving_a_conflict_keeps_the_chosen_version_once(hub_app: InProcessHub) -> None:
    ana, sam = hub_app.device("Ana"), hub_app.device("Sam", "supervisor")
    site = wire(Site(name="South office"))
    push(hub_app, ana, [site])
    x, y = edited(site, 1, location="x"), edited(site, 1, location="y")
    winner, loser = (x, y) if x["hash"] > y["hash"] else (y, x)
    push(hub_app, ana, [winner])
    conflict_id = push(hub_app, sam, [loser])[0]["conflict_id"]

    url = f"/v1/conflicts/{conflict_id}/resolve"
    answer = hub_app.client.post(url, json={"keep": "mine"}, headers=sam.headers)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["version"] == 3 and body["conflict"]["resolved_at"]
    current = [c for c in feed(hub_app, ana)["changes"] if c["id"] == site["id"]]
    assert current[0]["data"]["location"] == loser["data"]["location"]
    # asking again is answered the same; the other choice is refused
    again = hub_app.client.post(url, json={"keep": "mine"}, headers=sam.headers)
    assert again.status_code == 200 and again.json()["version"] == 3
    other = hub_app.client.post(url, json={"keep": "theirs"}, headers=sam.headers)
    assert other.status_code == 409
    assert hub_app.client.get("/v1/conflicts", headers=ana.headers).json()["conflicts"] == []
    resolved = [c for c in feed(hub_app, ana)["conflicts"] if c["id"] == conflict_id]
    assert resolved and resolved[0]["resolved_at"]


def test_a_push_that_names_the_conflict_it_resolves_closes_it(hub_app: InProcessHub) -> None:
    ana, sam = hub_app.device("Ana"), hub_app.device("Sam", "supervisor")
    site = wire(Site(name="Harbour office"))
    push(hub_app, ana, [site])
    x, y = edited(site, 1, location="x"), edited(site, 1, location="y")
    winner, loser = (x, y) if x["hash"] > y["hash"] else (y, x)
    push(hub_app, ana, [winner])
    conflict_id = push(hub_app, sam, [loser])[0]["conflict_id"]
    chosen = {**edited(site, 2, location="both x and y"), "resolves": conflict_id}
    assert push(hub_app, sam, [chosen])[0]["status"] == "applied"
    assert hub_app.client.get("/v1/conflicts", headers=sam.headers).json()["conflicts"] == []
