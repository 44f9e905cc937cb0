"""`cxfield sync ...` as people run it: two laptops and a supervisor, a real hub served by
uvicorn on loopback (SQLite and PostgreSQL), and the calm line when the hub is gone."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.hub_support import (  # noqa: F401
    HubDatabase,
    RunningHub,
    free_port,
    hub_database,
    hub_server,
    start_hub,
)
from tests.test_cli import run


def _connect(hub: RunningHub, name: str, role: str, data_dir: Path) -> None:
    token = hub.add_user(name, role)
    done = run("sync", "connect", hub.url, f"--token={token}", data_dir=data_dir, no_qt=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"Connected to {hub.url} as {name} ({role})."
    assert "device token is kept in" in done.stderr


def _sync(data_dir: Path) -> str:
    done = run("sync", data_dir=data_dir, no_qt=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("\n") == 1 and "Traceback" not in done.stderr
    return done.stdout.strip()


def test_two_laptops_and_a_supervisor_over_http(hub_server: RunningHub, tmp_path: Path) -> None:  # noqa: F811
    ana, minh, sam = tmp_path / "ana", tmp_path / "minh", tmp_path / "sam"
    _connect(hub_server, "Ana", "researcher", ana)
    _connect(hub_server, "Minh", "researcher", minh)
    _connect(hub_server, "Sam", "supervisor", sam)
    # researchers send their sessions submitted (a decided one is the supervisor's to send)
    demo = ("demo", "--submitted")
    study_id = run(*demo, "--sessions", "3", "--staff", "1", data_dir=ana).stdout.strip()
    first = _sync(ana)
    assert first.startswith("pushed ") and first.endswith(", pulled 0, conflicts 0")
    assert int(first.split()[1].rstrip(",")) > 30
    _sync(minh)  # the study (and the team's sites) arrive with their ids
    added = run(*demo, "--into", study_id, "--sessions", "2", data_dir=minh)
    assert added.returncode == 0 and added.stdout.strip() == study_id, added.stderr
    _sync(minh)
    _sync(sam)
    listed = json.loads(run("sessions", "list", "--study", study_id, "--json", data_dir=sam).stdout)
    assert len(listed) == 3 + 1 + 2  # Ana's customers and her staff interview, Minh's two
    assert {s["researcher"] for s in listed} >= {"Minh"}
    status = json.loads(run("sync", "status", "--json", data_dir=sam).stdout)
    assert status["hub"] == hub_server.url and status["account"]["role"] == "supervisor"
    assert status["changes_waiting"] == 0 and status["conflicts"] == 0
    assert status["last_synced_at"]
    for laptop in (ana, minh):  # the researchers get the team's people and places
        _sync(laptop)
    # Then a sync has nothing to do, on every laptop.
    for laptop in (ana, minh, sam):
        assert _sync(laptop) == "pushed 0, pulled 0, conflicts 0"
    assert json.loads(run("sync", "conflicts", "--json", data_dir=ana).stdout) == []
    as_json = json.loads(run("sync", "--json", data_dir=ana).stdout)
    assert as_json["pushed"] == as_json["pulled"] == as_json["conflicts"] == 0
    assert as_json["cursor"] > 0 and as_json["cancelled"] is False

    # The hub goes away: one calm line, a non-zero exit, nothing changed.
    hub_server.stop()
    gone = run("sync", data_dir=ana, no_qt=True)
    assert gone.returncode == 3 and gone.stdout == ""
    assert gone.stderr.strip().count("\n") == 0, gone.stderr
    assert "Hub not reachable" in gone.stderr and "try again later" in gone.stderr
    assert "Traceback" not in gone.stderr and "error" not in gone.stderr
    text = run("sync", "status", data_dir=ana).stdout
    assert "changes waiting: 0" in text and hub_server.url in text

    done = run("sync", "disconnect", data_dir=ana)
    assert done.returncode == 0 and hub_server.url in done.stdout
    assert not (ana / "sync-token").exists()
    again = run("sync", data_dir=ana)
    assert again.returncode != 0 and "not connected to a hub" in again.stderr


def test_a_researchers_decided_demo_sessions_are_refused_one_line_each(
    hub_server: RunningHub,  # noqa: F811
    tmp_path: Path,
) -> None:
    """`cxfield demo` makes sessions in a mix of review states: a researcher's laptop sends
    the drafts and the submitted ones, and each decided one is refused in one line that
    says what to do."""
    ana = tmp_path / "ana"
    _connect(hub_server, "Ana", "researcher", ana)
    study_id = run("demo", "--sessions", "12", "--staff", "0", data_dir=ana).stdout.strip()
    listed = json.loads(run("sessions", "list", "--study", study_id, "--json", data_dir=ana).stdout)
    decided = {s["id"] for s in listed if s["status"] in ("approved", "has_issues", "rejected")}
    assert decided and len(decided) < len(listed)  # the counts below can fail
    done = run("sync", data_dir=ana, no_qt=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith(f"({len(decided)} refused by the hub)"), done.stdout
    refused = [line for line in done.stderr.splitlines() if "Only a supervisor" in line]
    assert {line.split()[2].rstrip(":") for line in refused} == decided
    for line in refused:
        assert line.startswith("sync: session ") and "cxfield demo --submitted" in line, line
    assert "Traceback" not in done.stderr
    assert _sync(ana) == "pushed 0, pulled 0, conflicts 0"  # told once, not at every sync


def test_connect_refuses_plain_http_to_another_machine_and_a_wrong_token(
    tmp_path: Path,
) -> None:
    refused = run(
        "sync",
        "connect",
        "http://hub.example.org",
        "--token",
        "x" * 43,
        data_dir=tmp_path / "a",
        no_qt=True,
    )
    assert refused.returncode == 1 and "plain http to another machine" in refused.stderr
    nobody = run(
        "sync",
        "connect",
        f"http://127.0.0.1:{free_port()}",
        "--token",
        "x" * 43,
        data_dir=tmp_path / "a",
        no_qt=True,
    )
    assert nobody.returncode == 3 and "Hub not reachable" in nobody.stderr
    assert "Traceback" not in nobody.stderr
    status = json.loads(run("sync", "status", "--json", data_dir=tmp_path / "a").stdout)
    assert status["hub"] is None and status["account"] is None


def test_a_used_enrolment_token_is_refused(hub_server: RunningHub, tmp_path: Path) -> None:  # noqa: F811
    token = hub_server.add_user("Ana", "researcher")
    first = run("sync", "connect", hub_server.url, f"--token={token}", data_dir=tmp_path / "a")
    assert first.returncode == 0, first.stderr
    second = run("sync", "connect", hub_server.url, f"--token={token}", data_dir=tmp_path / "b")
    assert second.returncode == 4 and "Traceback" not in second.stderr
    assert "The hub refused the enrolment token" in second.stderr
    assert second.stderr.strip().count("\n") == 0
    assert (
        json.loads(run("sync", "status", "--json", data_dir=tmp_path / "b").stdout)["hub"] is None
    )


def test_conflicts_are_listed_and_resolved_from_the_command_line(
    hub_server: RunningHub,  # noqa: F811
    tmp_path: Path,
) -> None:
    from cxfield.app import open_app
    from cxfield.services import sites

    ana, minh = tmp_path / "ana", tmp_path / "minh"
    _connect(hub_server, "Ana", "researcher", ana)
    _connect(hub_server, "Minh", "researcher", minh)
    ctx = open_app(ana)
    office = sites.add_site(ctx.db, "Eastside Service Center", "1200 E Main St")
    ctx.close()
    _sync(ana)
    _sync(minh)
    for laptop, address in ((ana, "1200 East Main Street"), (minh, "Suite 4, 1200 E Main St")):
        ctx = open_app(laptop)
        sites.rename_site(ctx.db, office.id, office.name, address)
        ctx.close()
    _sync(ana)
    assert _sync(minh).endswith("conflicts 1")
    listed = json.loads(run("sync", "conflicts", "--json", data_dir=minh).stdout)
    assert len(listed) == 1 and listed[0]["fields"] == ["location"]
    assert listed[0]["mine"]["location"] == "Suite 4, 1200 E Main St"
    assert listed[0]["theirs"]["location"] == "1200 East Main Street"
    table = run("sync", "conflicts", data_dir=minh).stdout
    assert listed[0]["id"] in table and "location" in table
    bad = run("sync", "resolve", listed[0]["id"], "--keep", "both", data_dir=minh)
    assert bad.returncode == 2
    done = run("sync", "resolve", listed[0]["id"], "--keep", "mine", data_dir=minh)
    assert done.returncode == 0, done.stderr
    assert "resolved: mine kept and pushed" in done.stdout
    _sync(ana)
    ctx = open_app(ana)
    assert sites.list_sites(ctx.db)[0].location == "Suite 4, 1200 E Main St"
    ctx.close()
    for laptop in (ana, minh):
        assert json.loads(run("sync", "conflicts", "--json", data_dir=laptop).stdout) == []
        kept = json.loads(run("sync", "conflicts", "--all", "--json", data_dir=laptop).stdout)
        assert [(c["id"], c["state"]) for c in kept] == [(listed[0]["id"], "resolved")]


@pytest.mark.parametrize("hub_database", ["sqlite"], indirect=True)
def test_https_with_an_agency_ca(hub_database: HubDatabase, tmp_path: Path) -> None:  # noqa: F811
    from tests.test_hub_serve import _self_signed

    cert, key = _self_signed(tmp_path)
    hub = start_hub(hub_database, tls=(cert, key))
    try:
        token = hub.add_user("Ana", "researcher")
        laptop = tmp_path / "ana"
        untrusted = run("sync", "connect", hub.url, f"--token={token}", data_dir=laptop)
        assert untrusted.returncode == 1 and "does not trust" in untrusted.stderr
        assert "--ca FILE" in untrusted.stderr and "Traceback" not in untrusted.stderr
        trusted = run(
            "sync", "connect", hub.url, f"--token={token}", "--ca", str(cert), data_dir=laptop
        )
        assert trusted.returncode == 0, trusted.stderr
        assert _sync(laptop).startswith("pushed 1,")  # the stored CA is used from then on
    finally:
        hub.stop()
