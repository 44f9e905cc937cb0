"""Several writers at once on one PostgreSQL: the change cursor never skips a late commit,
and two hub processes take concurrent pushes without an error, storing every row once."""

from __future__ import annotations

import threading
from typing import Any

import httpx
import pytest

from cxfield.hub import accounts
from cxfield.hub.push import push_batch
from cxfield.storage.models import Note, ResearchSession, Site, StepCapture, Study
from cxfield.sync.protocol import PushRequest
from tests.hub_support import (
    Device,
    HubDatabase,
    InProcessHub,
    push_body,
    start_hub,
    wire,
)

PG_ONLY = pytest.mark.parametrize("hub_database", ["postgresql"], indirect=True)


def _poll(client: Any, device: Device, cursor: int, seen: dict[str, str]) -> int:
    """Read the feed from ``cursor`` to its end like a laptop; returns the new cursor."""
    while True:
        page = client.get("/v1/changes", params={"since": cursor}, headers=device.headers)
        assert page.status_code == 200, page.text
        body = page.json()
        for change in body["changes"]:
            seen[change["id"]] = change["hash"]
        cursor = body["next"]
        if not body["more"]:
            return int(cursor)


@PG_ONLY
def test_the_cursor_never_skips_a_transaction_that_commits_late(hub_app: InProcessHub) -> None:
    sam = hub_app.device("Sam", "supervisor")
    caller = accounts.authenticate(hub_app.engine, sam.token)
    assert caller is not None
    early = [wire(Site(name=f"Early {i}")) for i in range(3)]  # will commit LAST
    late = [wire(Site(name=f"Late {i}")) for i in range(4)]  # will commit FIRST

    took_rows, release = threading.Event(), threading.Event()
    outcome: dict[str, Any] = {}

    def hold() -> None:  # inside the first transaction: rows locked, cursor not yet taken
        took_rows.set()
        assert release.wait(60)

    def first_writer() -> None:
        try:
            outcome["answer"] = push_batch(
                hub_app.engine,
                caller,
                PushRequest.model_validate(push_body(early)),
                before_cursor=hold,
            )
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            outcome["error"] = exc

    thread = threading.Thread(target=first_writer)
    thread.start()
    try:
        assert took_rows.wait(60)
        second = hub_app.client.post("/v1/push", json=push_body(late), headers=sam.headers)
        assert [r["status"] for r in second.json()["results"]] == ["applied"] * len(late)

        seen: dict[str, str] = {}
        cursor = _poll(hub_app.client, sam, 0, seen)  # a reader polls between the commits
        assert set(seen) == {r["id"] for r in late}
    finally:
        release.set()
        thread.join(60)
    assert "error" not in outcome, outcome
    assert [r.status for r in outcome["answer"].results] == ["applied"] * len(early)
    _poll(hub_app.client, sam, cursor, seen)
    assert seen == {r["id"]: r["hash"] for r in early + late}


def _laptop_batches(study_id: str, step_id: str, researcher: str, batches: int) -> list[list[Any]]:
    out = []
    for b in range(batches):
        rows = [wire(Site(name="Head office"))]  # the same office made on every laptop
        for _ in range(5):
            session = ResearchSession(study_id=study_id)
            rows.append(wire(session))
            rows.append(wire(StepCapture(session_id=session.id, step_id=step_id, valence=1)))
            rows += [
                wire(Note(session_id=session.id, text=f"{researcher} {b} {i}")) for i in range(6)
            ]
        out.append(rows)
    return out


@PG_ONLY
def test_two_hub_processes_on_one_postgresql_take_concurrent_pushes(
    hub_database: HubDatabase,
) -> None:
    from cxfield.storage.models import Stage, Step

    hubs = [start_hub(hub_database), start_hub(hub_database, upgrade=False)]
    try:
        clients = [hub.http for hub in hubs]
        sam = hubs[0].device("Sam", "supervisor")
        study = Study(name="Two hubs")
        stage = Stage(study_id=study.id, name="Arrive")
        step = Step(study_id=study.id, stage_id=stage.id, name="Queue")
        shared = wire(Site(name="Shared annex"))  # the very same row from every laptop
        first = clients[0].post(
            "/v1/push", json=push_body([wire(study), wire(stage), wire(step)]), headers=sam.headers
        )
        assert first.status_code == 200

        names = [f"R{i}" for i in range(10)]  # 10 laptops at once, alternating hubs
        devices = [hubs[i % 2].device(name) for i, name in enumerate(names)]
        plans = {
            d.device_id: [[shared, *rows] for rows in _laptop_batches(study.id, step.id, n, 4)]
            for d, n in zip(devices, names, strict=True)
        }
        errors: list[str] = []
        answers: list[dict[str, Any]] = []
        lock = threading.Lock()
        stop_polling = threading.Event()
        polled: dict[str, str] = {}
        poll_cursor = {"value": 0}

        def laptop(index: int, device: Device) -> None:
            with httpx.Client(timeout=120) as http:
                for n, rows in enumerate(plans[device.device_id]):
                    url = hubs[(index + n) % 2].url  # alternate between the two processes
                    answer = http.post(
                        f"{url}/v1/push", json=push_body(rows), headers=device.headers
                    )
                    with lock:
                        if answer.status_code != 200:
                            errors.append(f"{answer.status_code} {answer.text[:200]}")
                        else:
                            answers.extend(answer.json()["results"])

        def poller() -> None:
            while not stop_polling.is_set():
                poll_cursor["value"] = _poll(clients[1], sam, poll_cursor["value"], polled)

        threads = [threading.Thread(target=laptop, args=(i, d)) for i, d in enumerate(devices)]
        watcher = threading.Thread(target=poller)
        watcher.start()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(300)
        stop_polling.set()
        watcher.join(60)
        assert not errors, errors[:3]
        statuses = {r["status"] for r in answers}
        assert statuses <= {"applied", "duplicate"}, statuses

        everything: dict[str, str] = {}
        _poll(clients[0], sam, 0, everything)
        pushed = {
            row["id"]: row["hash"] for plan in plans.values() for rows in plan for row in rows
        }
        offices = [r for r in answers if r["table"] == "site" and r["id"] != shared["id"]]
        kept = {r["merged_into"] or r["id"] for r in offices}
        assert len(kept) == 1  # one "Head office" for the team, whoever pushed first
        expected = {k: v for k, v in pushed.items() if not _is_merged(k, offices)}
        for key, digest in expected.items():
            assert everything.get(key) == digest, key
        assert len(everything) == len(expected) + 3  # + study, stage, step
        # the reader that polled during the pushes missed nothing
        _poll(clients[1], sam, poll_cursor["value"], polled)
        assert polled == everything
        for hub in hubs:
            assert "internal error" not in hub.log_text()
    finally:
        for hub in hubs:
            hub.stop()


def _is_merged(row_id: str, offices: list[dict[str, Any]]) -> bool:
    return any(r["id"] == row_id and r["merged_into"] for r in offices)
