"""Two laptops that synced one study to a hub, and what the hub's database says about it,
computed straight from the stored rows' JSON (not through the page's code)."""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from cxfield.services.demo import add_demo_sessions, create_demo
from tests.sync_support import Team

PDF_ROW = re.compile(
    r"^\s*\S.*? › (?P<step>.+?)\s{2,}(?P<captures>\d+)\s+(?P<n>\d+)\s+(?P<mean>[+−]?\d+\.\d\d|–)"
)


@dataclass
class SyncedStudy:
    team: Team
    study_id: str
    hub_dir: Path

    @property
    def engine(self) -> Any:
        return self.team.app.state.hub.engine


def two_laptops(root: Path) -> SyncedStudy:
    """Ana makes the demo study (60 sessions) and syncs; Ben pulls it, adds 50 sessions of
    his own and syncs; Ana syncs again.  The two are researchers: they send the demo's
    decided sessions submitted and a supervisor decides them as the demo had them."""
    team = Team(root)
    ana, ben = team.laptop("Ana"), team.laptop("Ben")
    study = create_demo(ana.db, 60, seed=7)
    team.sync_for_review(ana)
    ben.sync()
    add_demo_sessions(ben.db, study.id, 50, seed=8)
    team.sync_for_review(ben)
    ana.sync()
    return SyncedStudy(team, study.id, root / "hub")


def stored(engine: Any, table: str) -> list[dict[str, Any]]:
    from cxfield.hub import storage

    with engine.connect() as conn:
        rows = conn.execute(
            select(storage.record.c.data, storage.record.c.owner_account_id).where(
                storage.record.c.table_name == table
            )
        ).all()
    return [{**row.data, "_owner": row.owner_account_id} for row in rows]


def started_day(session: dict[str, Any]) -> Any:
    """The UTC day a stored session started (as the page's date filters count)."""
    from datetime import UTC, datetime

    moment = datetime.fromisoformat(str(session["started_at"]).replace("Z", "+00:00"))
    return (moment.astimezone(UTC) if moment.tzinfo else moment).date()


def sessions_selected(
    engine: Any, study_id: str, statuses: tuple[str, ...] = ("approved",), **only: Any
) -> dict[str, dict[str, Any]]:
    """Live interview sessions of the study with these statuses (and site/owner, and one
    side: ``kind`` "customer" or "staff"), whose participant did not withdraw: the oracle's
    selection."""
    people = {p["id"]: p for p in stored(engine, "participant")}
    found = {}
    for s in stored(engine, "session"):
        if s["study_id"] != study_id or s["deleted_at"] or s["status"] not in statuses:
            continue
        if s["mode"] != "interview":
            continue
        if only.get("site_id") and s["site_id"] != only["site_id"]:
            continue
        if only.get("owner") and s["_owner"] != only["owner"]:
            continue
        day = started_day(s)
        if only.get("date_from") and day < only["date_from"]:
            continue
        if only.get("date_to") and day > only["date_to"]:
            continue
        person = people.get(s["participant_id"] or "")
        if person and person["withdrawn"]:
            continue
        kind = (person or {}).get("kind") or "customer"
        if only.get("kind") and kind != only["kind"]:
            continue
        found[s["id"]] = {**s, "segments": person["segments"] if person else {}}
    return found


def ratings(engine: Any, sessions: dict[str, dict[str, Any]]) -> dict[str, list[tuple[str, int]]]:
    """step id -> [(session id, valence)] over the selection."""
    out: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for c in stored(engine, "step_capture"):
        if c["session_id"] in sessions and not c["deleted_at"] and c["valence"] is not None:
            out[c["step_id"]].append((c["session_id"], c["valence"]))
    return out


def step_names(engine: Any, study_id: str) -> dict[str, str]:
    return {s["id"]: s["name"] for s in stored(engine, "step") if s["study_id"] == study_id}


def expected_gaps(
    engine: Any, study_id: str, key: str, sessions: dict[str, dict[str, Any]]
) -> set[tuple[str, str, int, int]]:
    """(segment value, step name, n, n_rest) of every step where a segment with ≥ 5
    sessions differs from the rest beyond the 95 % interval (Welch)."""
    per_value: dict[str, int] = defaultdict(int)
    for s in sessions.values():
        per_value[str(s["segments"].get(key, ""))] += 1
    names = step_names(engine, study_id)
    found = set()
    for step_id, values in ratings(engine, sessions).items():
        by_value: dict[str, list[int]] = defaultdict(list)
        for session_id, valence in values:
            by_value[str(sessions[session_id]["segments"].get(key, ""))].append(valence)
        for value, mine in by_value.items():
            rest = [v for other, vs in by_value.items() if other != value for v in vs]
            if per_value[value] < 5 or min(len(mine), len(rest)) < 5:
                continue
            m1, m2 = sum(mine) / len(mine), sum(rest) / len(rest)
            v1 = sum((x - m1) ** 2 for x in mine) / (len(mine) - 1)
            v2 = sum((x - m2) ** 2 for x in rest) / (len(rest) - 1)
            margin = 1.959964 * math.sqrt(v1 / len(mine) + v2 / len(rest))
            if abs(m1 - m2) > margin and abs(m1 - m2) >= 0.05:
                found.add((value, names[step_id], len(mine), len(rest)))
    return found
