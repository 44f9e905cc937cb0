"""`cxfield hub audit`: the hub's admin actions — accounts added and enrolled, devices
enrolled, tokens revoked, studies published, quotes shown — read back in order with who did
them (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from cxfield.main import main
from cxfield.services import templates
from tests.hub_support import HubDatabase, hub_database  # noqa: F401
from tests.sync_support import Team


@pytest.fixture
def team(hub_database: HubDatabase, tmp_path: Path) -> Iterator[Team]:  # noqa: F811
    made = Team(tmp_path, url=hub_database.url)
    yield made
    made.close()


def test_admin_actions_are_audited_and_listed(
    team: Team, capsys: pytest.CaptureFixture[str]
) -> None:
    where = ["--dir", str(team.root / "hub"), "--database", str(team.url)]
    sam = team.laptop("Sam Cole", "supervisor")
    study = templates.create_from_definition(
        sam.db, templates.load_template("benefits-office-visit")
    )
    sam.sync()
    assert main(["hub", "users", "enrol", "Sam Cole", *where]) == 0
    assert main(["hub", "users", "add", "Dana Reyes", "--role", "viewer", *where]) == 0
    assert main(["hub", "tokens", "revoke", "--user", "Dana Reyes", *where]) == 0
    assert main(["hub", "studies", "quotes", study.id, "on", *where]) == 0
    capsys.readouterr()

    assert main(["hub", "audit", "--json", *where]) == 0
    trail = json.loads(capsys.readouterr().out)
    assert [(e["who"], e["action"], e["target_name"]) for e in trail] == [
        ("hub command line", "users add", "Sam Cole"),
        ("Sam Cole", "device enrolled", ""),
        ("Sam Cole", "study published", study.name),
        ("hub command line", "users enrol", "Sam Cole"),
        ("hub command line", "users add", "Dana Reyes"),
        ("hub command line", "tokens revoke", "Dana Reyes"),
        ("hub command line", "study quotes", study.name),
    ]
    assert trail[4]["detail"]["role"] == "viewer"
    assert [e["at"] for e in trail] == sorted(e["at"] for e in trail)

    assert main(["hub", "audit", "--action", "study published", *where]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == ["WHEN", "WHO", "ACTION", "TARGET", "DETAIL"]
    assert len(table) == 2 and f"{study.name} ({study.id})" in table[1]
    assert main(["hub", "audit", "--last", "1", "--json", *where]) == 0
    assert [e["action"] for e in json.loads(capsys.readouterr().out)] == ["study quotes"]

    assert main(["hub", "audit", "--action", "nothing", *where]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "No audit entry has the action 'nothing'" in err
    with pytest.raises(SystemExit) as usage:
        main(["hub", "audit", "--last", "0", *where])
    assert usage.value.code == 2
