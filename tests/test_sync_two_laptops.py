"""Two researchers' laptops and a supervisor sync through a real hub (in this process):
one shared journey map, replays and lost answers change nothing, conflicts are flagged on
both sides and resolvable, participant codes never collide."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from cxfield.services import analysis, demo, participants, sites, studies, templates
from cxfield.sync import conflicts
from cxfield.sync.client import HubUnreachable
from tests.sync_support import Team, live_rows


def _converged(team: Team) -> None:
    hub = team.hub_rows()
    for laptop in team.laptops:
        assert live_rows(laptop.ctx) == hub, laptop.name


def test_supervisor_sees_both_laptops_in_one_curve(team: Team, tmp_path: Path) -> None:
    ana, minh, sup = team.laptop("Ana"), team.laptop("Minh"), team.laptop("Sam", "supervisor")
    study = demo.create_demo(ana.db, 4, submitted=True)  # researchers send sessions submitted
    first = ana.sync()
    assert first.pushed > 0 and first.conflicts == 0
    # Minh gets the study from the hub (same ids) and captures sessions of his own.
    minh.sync()
    assert studies.get_study(minh.db, study.id).name == study.name
    demo.add_demo_sessions(minh.db, study.id, 3, submitted=True)
    assert minh.sync().pushed > 0
    # The file Ana hands out is the same study: importing it on Minh's laptop changes nothing.
    path = templates.write_definition(ana.db, study.id, tmp_path / "study.json")
    assert templates.import_study(minh.db, path).outcome == "unchanged"

    sup.sync()
    assert studies.list_studies(sup.db)[0].sessions == 4 + 3
    # One curve: per step, the supervisor's histogram is the sum of both laptops' (each
    # researcher's laptop holds only the sessions its researcher made).
    on_sup = analysis.step_aggregates(sup.db, study.id)
    on_ana = analysis.step_aggregates(ana.db, study.id)
    on_minh = analysis.step_aggregates(minh.db, study.id)
    assert on_sup and set(on_minh) <= set(on_sup)
    for step_id, agg in on_sup.items():
        parts = [on_ana.get(step_id), on_minh.get(step_id)]
        assert agg.valence.n == sum(p.valence.n for p in parts if p)
        assert agg.pain_points == sum(p.pain_points for p in parts if p)
    assert any(on_minh.get(step_id) and on_ana.get(step_id) for step_id in on_sup)
    # Researchers see only their own sessions; the supervisor sees everyone's.
    assert studies.list_studies(minh.db)[0].sessions == 3
    assert studies.list_studies(ana.db)[0].sessions == 4
    # The demo sites made on both laptops are one site each on the hub.
    assert sorted(s.name for s in sites.list_sites(sup.db)) == [
        "Eastside Service Center",
        "Riverside Office",
    ]
    for laptop in (ana, minh, sup):
        laptop.sync()
    assert sorted(s.name for s in sites.list_sites(minh.db)) == [
        "Eastside Service Center",
        "Riverside Office",
    ]


def test_replays_and_lost_answers_change_nothing(team: Team) -> None:
    ana, sup = team.laptop("Ana"), team.laptop("Sam", "supervisor")
    sup.sync()  # the supervisor's own researcher row is on the hub first
    demo.create_demo(ana.db, 3, submitted=True)  # a researcher sends her sessions submitted
    # The hub commits the first push, but its answer never reaches the laptop.
    calls: list[str] = []

    def lose_first_push_answer(request: httpx.Request) -> str:
        calls.append(request.url.path)
        return "drop_answer" if calls.count("/v1/push") == 1 else "ok"

    team.faults = lose_first_push_answer
    with pytest.raises(HubUnreachable, match="nothing changed"):
        ana.sync()
    on_hub = team.hub_rows()
    assert on_hub  # the hub did commit
    again = ana.sync()  # the same rows again: duplicates, nothing stored twice
    assert again.pushed == 0 and again.duplicates == len(on_hub) - 1
    assert team.hub_rows() == on_hub
    # Every request duplicated: nothing changes either.
    team.faults = lambda _r: "duplicate"
    ana.sync()
    sup.sync()
    assert team.hub_rows() == on_hub
    _converged(team)
    # A whole sync replayed is a no-op.
    team.faults = lambda _r: "ok"
    replay = sup.sync()
    assert (replay.pushed, replay.pulled, replay.conflicts) == (0, 0, 0)


def test_conflict_is_flagged_on_both_sides_and_resolvable(team: Team) -> None:
    ana, minh = team.laptop("Ana"), team.laptop("Minh")
    office = sites.add_site(ana.db, "Eastside Service Center", "1200 E Main St")
    ana.sync()
    minh.sync()
    # Both change the same site's address offline.
    sites.rename_site(ana.db, office.id, office.name, "1200 East Main Street")
    sites.rename_site(minh.db, office.id, office.name, "Suite 4, 1200 E Main St")
    ana.sync()
    pushed = minh.sync()
    assert pushed.conflicts == 1
    ana.sync()  # Ana pulls the conflict: she is the other party
    on_minh, on_ana = conflicts.list_conflicts(minh.db), conflicts.list_conflicts(ana.db)
    assert len(on_minh) == 1 and len(on_ana) == 1 and on_minh[0].id == on_ana[0].id
    assert on_minh[0].mine["location"] == "Suite 4, 1200 E Main St"  # type: ignore[index]
    assert on_minh[0].theirs["location"] == "1200 East Main Street"  # type: ignore[index]
    assert on_ana[0].mine["location"] == "1200 East Main Street"  # type: ignore[index]
    assert on_minh[0].fields == ["location"]
    # The hub applied one winner, the same on both laptops; nothing is lost: both kept.
    _converged(team)
    kept = {on_minh[0].winner, on_ana[0].winner}
    assert kept == {"mine", "theirs"}
    # Minh keeps his version: it is pushed with the hub's current base and wins.
    conflicts.choose(minh.db, on_minh[0].id, "mine")
    minh.sync()
    ana.sync()
    assert sites.list_sites(ana.db)[0].location == "Suite 4, 1200 E Main St"
    assert conflicts.list_conflicts(minh.db) == [] and conflicts.list_conflicts(ana.db) == []
    _converged(team)


def test_participant_codes_of_two_laptops_never_collide(team: Team) -> None:
    ana, minh, sup = team.laptop("Ana"), team.laptop("Minh"), team.laptop("Sam", "supervisor")
    study = studies.create_study(ana.db, studies.Study(name="Shared"))
    ana.sync()
    minh.sync()
    for laptop in (ana, minh):
        for _ in range(3):
            participants.add_participant(laptop.db, study.id)
        laptop.sync()
    summary = sup.sync()
    assert summary.clashes == 0
    codes = [p.participant.code for p in participants.list_participants(sup.db, study.id)]
    assert len(codes) == 6 and len(set(codes)) == 6


def test_operations_data_reaches_the_team_once(team: Team, tmp_path: Path) -> None:
    """A queue export imported on two laptops is one set of records on the hub, and the
    laptop that never imported it sees the same operations figures after a sync."""
    from cxfield.services import ops_analysis, ops_import
    from cxfield.sync.protocol import OPS_TABLES, TABLES

    assert set(TABLES) >= OPS_TABLES  # every operations table is synced
    ana, minh, sup = team.laptop("Ana"), team.laptop("Minh"), team.laptop("Sam", "supervisor")
    study = demo.create_demo(ana.db, 4, staff=0, queue_rows=0)
    ana.sync()
    minh.sync()
    steps = [s.name for s in studies.get_journey(ana.db, study.id).steps]
    export = tmp_path / "queue.csv"
    export.write_text(
        "ticket,issued,called,closed\n"
        "1,2026-03-02T09:00:00Z,2026-03-02T09:40:00Z,2026-03-02T09:55:00Z\n"
        "2,2026-03-02T10:00:00Z,2026-03-02T10:10:00Z,2026-03-02T10:30:00Z\n",
        encoding="utf-8",
    )
    pairs = [("issued", steps[1]), ("called", steps[2])]
    for laptop in (ana, minh):
        result = ops_import.import_operations(
            laptop.db, study.id, export, pairs, end_column="closed"
        )
        assert result.added == 2
        assert laptop.sync().conflicts == 0
    hub = team.hub_rows()
    assert len([key for key in hub if key[0] == "ops_record"]) == 2
    assert len([key for key in hub if key[0] == "ops_import"]) == 1
    sup.sync()
    on_ana = ops_analysis.ops_summary(ana.db, study.id)
    on_sup = ops_analysis.ops_summary(sup.db, study.id)
    assert on_sup.records == on_ana.records == 2
    assert {k: (v.volume, v.median_s) for k, v in on_sup.steps.items()} == {
        k: (v.volume, v.median_s) for k, v in on_ana.steps.items()
    }
