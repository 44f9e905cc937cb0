"""Identity across laptops through a real hub: the hub account is the researcher, sites
and researchers made twice become one, a researcher cannot change a published map, and a
participant code typed on two laptops is shown as a clash, never dropped."""

from __future__ import annotations

from pathlib import Path

import httpx
from sqlmodel import select

from cxfield.app import open_app
from cxfield.domain.vocabulary import ResearcherRole
from cxfield.hub import accounts
from cxfield.services import journey_editor, participants, sites, studies
from cxfield.storage.models import Researcher, ResearchSession, Study
from cxfield.sync import conflicts, connection
from cxfield.sync.state import waiting_counts
from tests.sync_support import BASE_URL, Team


def test_the_hub_account_becomes_the_laptops_researcher(tmp_path: Path) -> None:
    ctx = open_app(tmp_path / "ana")
    # Before connecting, Ana had a local profile with sessions.
    local = sites.add_researcher(ctx.db, "ana  LIMA")
    study = studies.create_study(ctx.db, Study(name="S"))
    with ctx.db.session() as db:
        db.add(ResearchSession(study_id=study.id, researcher_id=local.id))
    ctx.close()
    team = Team(tmp_path / "team")
    try:
        info, token = accounts.add_user(team.app.state.hub.engine, "Ana Lima", "supervisor")
        ctx = open_app(tmp_path / "ana")
        http = httpx.Client(transport=team.transport, base_url=BASE_URL)
        connection.connect(ctx.db, ctx.paths.root, BASE_URL, token, http=http)
        assert [(r.id, r.name, r.role) for r in sites.list_researchers(ctx.db)] == [
            (info.id, "Ana Lima", ResearcherRole.SUPERVISOR)
        ]
        assert ctx.db.get_setting(sites.DEFAULT_RESEARCHER_KEY) == info.id
        with ctx.db.session() as db:
            (session,) = db.exec(select(ResearchSession)).all()
            assert session.researcher_id == info.id  # her sessions are the account's now
            assert db.get(Researcher, local.id).deleted_at is not None  # type: ignore[union-attr]
        http.close()
        ctx.close()
    finally:
        team.close()


def test_a_site_made_on_two_laptops_becomes_one(team: Team) -> None:
    ana, minh = team.laptop("Ana"), team.laptop("Minh")
    ana_site = sites.add_site(ana.db, "Eastside Service Center")
    ana.sync()
    # Minh, offline, made the same office (spelled his way) and a session there.
    study = studies.create_study(minh.db, Study(name="Minh's study"))
    minh_site = sites.add_site(minh.db, "eastside  service center")
    with minh.db.session() as db:
        visit = ResearchSession(study_id=study.id, site_id=minh_site.id)
        db.add(visit)
    summary = minh.sync()
    assert summary.merged == 1
    # His session points at the team's site, his duplicate is gone, nothing waits.
    with minh.db.session() as db:
        moved = db.get(ResearchSession, visit.id)
        assert moved is not None and moved.site_id == ana_site.id
    assert [s.id for s in sites.list_sites(minh.db)] == [ana_site.id]
    assert waiting_counts(minh.db) == {}
    ana.sync()
    assert [s.id for s in sites.list_sites(ana.db)] == [ana_site.id]
    assert team.hub_rows()[("session", visit.id)]


def test_a_researcher_cannot_change_a_published_map(team: Team) -> None:
    lead, minh = team.laptop("Lead"), team.laptop("Minh")
    study = studies.create_study(lead.db, Study(name="Published"))
    lead.sync()
    minh.sync()
    journey_editor.update_study(minh.db, study.id, description="my own idea")
    summary = minh.sync()
    assert summary.refused == 1
    assert any("Only the study's owner or a supervisor" in m for m in summary.messages)
    (refused,) = conflicts.list_conflicts(minh.db)
    assert refused.kind == "refused" and refused.table == "study"
    # It is not offered again at every sync, and the hub's map is unchanged.
    assert waiting_counts(minh.db) == {}
    again = minh.sync()
    assert again.refused == 0
    lead.sync()
    assert studies.get_study(lead.db, study.id).description == ""
    conflicts.choose(minh.db, refused.id, "theirs")
    assert conflicts.list_conflicts(minh.db) == []


def test_a_code_typed_on_two_laptops_is_a_clash_not_a_loss(team: Team) -> None:
    ana, sup = team.laptop("Ana"), team.laptop("Sam", "supervisor")
    study = studies.create_study(sup.db, Study(name="Typed codes"))
    sup.sync()
    ana.sync()
    participants.add_participant(ana.db, study.id, code="P-010")
    participants.add_participant(sup.db, study.id, code="P-010")
    ana.sync()
    summary = sup.sync()
    assert summary.clashes == 1
    (clash,) = conflicts.list_conflicts(sup.db)
    assert clash.kind == "clash" and clash.theirs and clash.theirs["code"] == "P-010"
    codes = [p.participant.code for p in participants.list_participants(sup.db, study.id)]
    assert codes == ["P-010"]  # the supervisor's own; Ana's is on the hub and in the clash
