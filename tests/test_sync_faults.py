"""Three laptops (two researchers and a supervisor) create, edit, delete and sync through a
transport that drops requests, drops answers after the hub committed, duplicates requests
and delivers old ones again late (reordering), while the hub restarts now and then (a new
app on the same hub database).  After a final sync of everyone: every laptop holds exactly
the hub's live rows it may see, nothing written is lost (it is the hub's row, or someone
replaced it knowingly, or it is kept in a conflict), nothing is duplicated, and every
conflict is recorded by the laptop that pushed it and by the other side.

Examples are small (a handful of steps on a tiny study) so that 200 of them run in CI; the
profile is ``sync-ci`` (``CXFIELD_HYPOTHESIS_PROFILE=sync-dev`` for a quick local run)."""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, Phase, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule
from sqlalchemy import select
from sqlmodel import col
from sqlmodel import select as sm_select

from cxfield.app import open_app
from cxfield.domain.errors import ConflictError
from cxfield.domain.ids import utcnow
from cxfield.services import participants, sites, studies
from cxfield.storage.models import Note, ResearchSession, Site, StepCapture, Study
from cxfield.sync import protocol
from cxfield.sync.client import HubUnreachable
from cxfield.sync.conflicts import list_conflicts
from cxfield.sync.state import SYNC_CONFLICT
from tests.sync_support import (
    BASE_URL,
    FaultyTransport,
    Laptop,
    hub_app,
    in_process_transport,
    live_rows,
)

settings.register_profile(
    "sync-ci",
    max_examples=200,
    # no "explain" phase: its line tracer is slow on Python 3.11 and adds nothing here
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
    stateful_step_count=10,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("sync-dev", parent=settings.get_profile("sync-ci"), max_examples=25)
PROFILE = settings.get_profile(os.environ.get("CXFIELD_HYPOTHESIS_PROFILE", "sync-ci"))

NAMES = ("R0", "R1", "S")  # two researchers and a supervisor; R0 owns the study
ROLES = ("researcher", "researcher", "supervisor")
FAULTS = ("drop_request", "drop_answer", "duplicate", "late_replay")
SITE_NAMES = ("North", "South", "north ")  # "north " is North again (merged by the hub)


class Rig:
    """One hub and three laptops, kept open across examples so that their engines (and
    SQLAlchemy's statement caches) stay warm; each example starts from the same files,
    copied back from a pristine set."""

    def __init__(self, root: Path) -> None:
        from cxfield.hub import accounts
        from cxfield.sync import connection

        self.live, self.pristine = root / "live", root / "pristine"
        self.base_app = hub_app(self.live / "hub")
        self.app = self.base_app
        self.transport = FaultyTransport(in_process_transport(self.app), lambda _r: "ok")
        self.laptops: list[Laptop] = []
        for name, role in zip(NAMES, ROLES, strict=True):
            _info, token = accounts.add_user(self.app.state.hub.engine, name, role)
            ctx = open_app(self.live / name)
            http = httpx.Client(transport=self.transport, base_url=BASE_URL)
            connection.connect(ctx.db, ctx.paths.root, BASE_URL, token, http=http)
            self.laptops.append(Laptop(name, ctx, http))
        owner = self.laptops[0].db
        study = studies.create_study(owner, Study(name="Shared study"))
        stage = studies.add_stage(owner, study.id, "Visit")
        self.step_ids = [studies.add_step(owner, stage.id, n).id for n in ("Arrive", "Wait")]
        sites.add_site(owner, "Central Office", "1 Main St")  # on every laptop from the start
        self.study_id = study.id
        for _round in range(2):
            for laptop in self.laptops:
                laptop.sync()
        self._release()
        for path in self.live.rglob("*.sqlite"):  # everything in the main files, no WAL left
            conn = sqlite3.connect(path)
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.close()
        shutil.copytree(self.live, self.pristine, ignore=shutil.ignore_patterns("*-wal", "*-shm"))

    def _release(self) -> None:
        """No connection left open on any file (laptops use no pool; the hub's is emptied)."""
        if self.app is not self.base_app:
            self.app.state.hub.engine.dispose()
        self.base_app.state.hub.engine.dispose()

    def reset(self) -> None:
        self._release()
        self.app = self.base_app
        self.transport.inner = in_process_transport(self.app)
        self.transport.held.clear()
        self.transport.plan = lambda _r: "ok"
        for folder in [*NAMES, "hub"]:
            for path in (self.live / folder).iterdir():
                if path.name.endswith(("-wal", "-shm")):
                    path.unlink()
            for path in (self.pristine / folder).rglob("*"):
                if path.is_file():
                    target = self.live / path.relative_to(self.pristine)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(path, target)
        blobs = self.live / "hub" / "blobs"
        if blobs.exists() and not (self.pristine / "hub" / "blobs").exists():
            shutil.rmtree(blobs)

    def restart_hub(self) -> None:
        """A new hub process on the same database (the old one's connections closed)."""
        if self.app is not self.base_app:
            self.app.state.hub.engine.dispose()
        self.base_app.state.hub.engine.dispose()
        self.app = hub_app(self.live / "hub")
        self.transport.inner = in_process_transport(self.app)


RIG: dict[str, Rig] = {}


@pytest.fixture(scope="module", autouse=True)
def _rig(tmp_path_factory: pytest.TempPathFactory) -> Any:
    # On a RAM disk where there is one: the laptops commit with fsync (synchronous=FULL),
    # which a RAM disk makes free; the SQL is the same.
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK):
        root = Path(tempfile.mkdtemp(prefix="cxfield-sync-rig-", dir=shm))
    else:
        root = tmp_path_factory.mktemp("sync-rig")
    rig = Rig(root)
    RIG["rig"] = rig
    yield rig
    for laptop in rig.laptops:
        laptop.http.close()
        laptop.ctx.close()
    rig._release()
    RIG.clear()
    if str(root).startswith("/dev/shm/"):
        shutil.rmtree(root, ignore_errors=True)


def _value(table: str, row: Any) -> tuple[str, bool]:
    field = {"note": "text", "site": "location", "study": "description"}[table]
    get = row.get if isinstance(row, dict) else (lambda k: getattr(row, k))
    return (str(get(field)), get("deleted_at") is not None)


class SyncMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.rig = RIG["rig"]
        self.rig.reset()
        self.rig.transport.plan = self._fault
        self.laptops = self.rig.laptops
        self.study_id, self.step_ids = self.rig.study_id, self.rig.step_ids
        self.queue: list[str] = []
        self.during: Any = None
        self.counter = 0
        #: (table, id) -> values written on laptops, and the values they replaced
        self.written: dict[tuple[str, str], set[tuple[str, bool]]] = defaultdict(set)
        self.replaced: dict[tuple[str, str], set[tuple[str, bool]]] = defaultdict(set)
        self.created_sites: dict[str, str] = {}  # id -> name

    def _fault(self, request: httpx.Request) -> str:
        if self.during is not None and request.url.path == "/v1/changes":
            # the researcher types while the sync runs: between its push and its pull
            edit, self.during = self.during, None
            edit()
        return self.queue.pop(0) if self.queue else "ok"

    def _text(self, laptop: int) -> str:
        self.counter += 1
        return f"{NAMES[laptop]}-{self.counter}"

    def _edit(self, laptop: int, model: Any, row_id: str, **changes: Any) -> None:
        with self.laptops[laptop].db.session() as db:
            row = db.get(model, row_id)
            if row is None or row.deleted_at is not None:
                return
            table = model.__tablename__
            self.replaced[(table, row_id)].add(_value(table, row))
            for key, value in changes.items():
                setattr(row, key, value)
            db.add(row)
            self.written[(table, row_id)].add(_value(table, row))

    def _pick(self, laptop: int, model: Any, pick: int) -> Any | None:
        with self.laptops[laptop].db.session() as db:
            rows = db.exec(
                sm_select(model).where(col(model.deleted_at).is_(None)).order_by(col(model.id))
            ).all()
        return rows[pick % len(rows)] if rows else None

    # --- rules -------------------------------------------------------------------------

    @initialize()
    def start(self) -> None:
        pass

    @rule(
        laptop=st.integers(0, 2),
        faults=st.lists(st.sampled_from(FAULTS), max_size=3),
        edit_during=st.none() | st.integers(0, 9),
    )
    def sync(self, laptop: int, faults: list[str], edit_during: int | None) -> None:
        self.queue = list(faults)
        if edit_during is not None:
            model = (Note, Site, Study)[edit_during % 3]

            def edit() -> None:
                row = self._pick(laptop, model, edit_during)
                field = {"note": "text", "site": "location", "study": "description"}
                if row is not None and (model is not Study or laptop != 1):
                    self._edit(
                        laptop, model, row.id, **{field[model.__tablename__]: self._text(laptop)}
                    )

            self.during = edit
        try:
            self.laptops[laptop].sync()
        except HubUnreachable:
            if not {"drop_request", "drop_answer"} & set(faults):
                raise
        finally:
            self.queue, self.during = [], None

    @rule()
    def restart_hub(self) -> None:
        self.rig.restart_hub()

    @rule(laptop=st.integers(0, 2), site=st.integers(0, 5), valence=st.integers(-2, 2))
    def new_session(self, laptop: int, site: int, valence: int) -> None:
        chosen = self._pick(laptop, Site, site)
        db_ = self.laptops[laptop].db
        researcher = db_.get_setting("runner.last_researcher")
        with db_.session() as db:
            session = ResearchSession(
                study_id=self.study_id,
                researcher_id=researcher,
                site_id=chosen.id if chosen and site % 2 else None,
            )
            db.add(session)
            db.flush()
            db.add(StepCapture(session_id=session.id, step_id=self.step_ids[0], valence=valence))
            text = self._text(laptop)
            note = Note(session_id=session.id, text=text)
            db.add(note)
        self.written[("note", note.id)].add((text, False))

    @rule(laptop=st.integers(0, 2), pick=st.integers(0, 9))
    def add_note(self, laptop: int, pick: int) -> None:
        session = self._pick(laptop, ResearchSession, pick)
        if session is None:
            return
        text = self._text(laptop)
        with self.laptops[laptop].db.session() as db:
            note = Note(session_id=session.id, text=text)
            db.add(note)
        self.written[("note", note.id)].add((text, False))

    @rule(laptop=st.integers(0, 2), pick=st.integers(0, 9))
    def edit_note(self, laptop: int, pick: int) -> None:
        note = self._pick(laptop, Note, pick)
        if note is not None:
            self._edit(laptop, Note, note.id, text=self._text(laptop))

    @rule(laptop=st.integers(0, 2), pick=st.integers(0, 9))
    def delete_note(self, laptop: int, pick: int) -> None:
        note = self._pick(laptop, Note, pick)
        if note is not None:
            self._edit(laptop, Note, note.id, deleted_at=utcnow())

    @rule(laptop=st.integers(0, 2), name=st.sampled_from(SITE_NAMES))
    def add_site(self, laptop: int, name: str) -> None:
        location = self._text(laptop)
        try:
            site = sites.add_site(self.laptops[laptop].db, name, location)
        except ConflictError:
            return
        self.created_sites[site.id] = site.name
        self.written[("site", site.id)].add((location, False))

    @rule(laptop=st.integers(0, 2), pick=st.integers(0, 5))
    def edit_site(self, laptop: int, pick: int) -> None:
        site = self._pick(laptop, Site, pick)
        if site is not None:
            self._edit(laptop, Site, site.id, location=self._text(laptop))

    @rule(
        laptops=st.lists(st.integers(0, 2), min_size=2, max_size=2, unique=True),
        pick=st.integers(0, 5),
        delete=st.booleans(),
    )
    def edit_site_on_two(self, laptops: list[int], pick: int, delete: bool) -> None:
        """Two laptops change the same site before either syncs: a true conflict."""
        site = self._pick(laptops[0], Site, pick)
        if site is None:
            return
        self._edit(laptops[0], Site, site.id, location=self._text(laptops[0]))
        changes: dict[str, Any] = (
            {"deleted_at": utcnow()} if delete else {"location": self._text(laptops[1])}
        )
        self._edit(laptops[1], Site, site.id, **changes)

    @rule(laptop=st.integers(0, 2), pick=st.integers(0, 5))
    def delete_site(self, laptop: int, pick: int) -> None:
        site = self._pick(laptop, Site, pick)
        if site is not None:
            self._edit(laptop, Site, site.id, deleted_at=utcnow())

    @rule(laptop=st.sampled_from([0, 2]))
    def edit_study(self, laptop: int) -> None:
        """Only the study's owner (R0) and the supervisor may change it."""
        self._edit(laptop, Study, self.study_id, description=self._text(laptop))

    @rule(laptop=st.integers(0, 2))
    def add_participant(self, laptop: int) -> None:
        participants.add_participant(self.laptops[laptop].db, self.study_id)

    # --- the final check ---------------------------------------------------------------

    def teardown(self) -> None:
        self._settle_and_check()

    def _settle_and_check(self) -> None:
        self.queue, self.during = [], None
        self.rig.transport.held.clear()
        for _round in range(6):
            before, busy = self._hub_seq(), 0
            for laptop in self.laptops:
                done = laptop.sync()
                busy += done.pushed + done.pulled + done.merged + done.conflicts + done.kept_local
            if busy == 0 and self._hub_seq() == before:  # a whole round changed nothing
                break
        else:
            raise AssertionError("the laptops did not settle after 6 rounds of syncing")
        records, found_conflicts, accounts = self._hub_state()
        n = len(found_conflicts)
        event(f"conflicts on the hub: {n if n < 3 else '3+'}")
        event(f"hub restarted: {self.rig.app is not self.rig.base_app}")
        live_on_hub = {key: r["hash"] for key, r in records.items() if not r["deleted"]}
        # Every laptop holds exactly the hub's live rows it may see.
        for index, laptop in enumerate(self.laptops):
            account = accounts[NAMES[index]]
            visible = {
                key: digest
                for key, digest in live_on_hub.items()
                if NAMES[index] == "S"
                or key[0] not in protocol.SESSION_TABLES | protocol.PARTICIPANT_TABLES
                or records[key]["owner"] == account
            }
            assert live_rows(laptop.ctx) == visible, f"{laptop.name} differs from the hub"
        # Nothing duplicated: one live site per name, codes unique.
        names = [
            protocol.normalised_name(r["data"]["name"])
            for key, r in records.items()
            if key[0] == "site" and not r["deleted"]
        ]
        assert len(names) == len(set(names)), names
        codes = [
            r["data"]["code"]
            for key, r in records.items()
            if key[0] == "participant" and not r["deleted"]
        ]
        assert len(codes) == len(set(codes)), codes
        # A site made twice was merged into the one on the hub, never lost.
        hub_sites = {
            protocol.normalised_name(r["data"]["name"])
            for k, r in records.items()
            if k[0] == "site"
        }
        for site_id, name in self.created_sites.items():
            assert ("site", site_id) in records or protocol.normalised_name(name) in hub_sites
        # Nothing written is lost: it is the hub's row, or a later edit replaced it knowingly,
        # or it is kept in a conflict.
        in_conflicts: dict[tuple[str, str], set[tuple[str, bool]]] = defaultdict(set)
        for item in found_conflicts:
            for side in (item["winner_data"], item["loser_data"]):
                in_conflicts[(item["table_name"], item["row_id"])].add(
                    _value(item["table_name"], side)
                )
        for key, values in self.written.items():
            if key not in records:
                assert key[0] == "site", f"{key} never reached the hub"
                continue
            final = _value(key[0], records[key]["data"])
            for value in values:
                assert (
                    value == final or value in self.replaced[key] or value in in_conflicts[key]
                ), f"{key}: {value} was lost (hub has {final})"
        # Each conflict is on the laptop that pushed it and on the other side.
        device_of = {laptop.db.device_id: laptop for laptop in self.laptops}
        for item in found_conflicts:
            for device in (item["pushed_device"], item["other_device"]):
                laptop = device_of.get(device)
                if laptop is None:
                    continue
                with laptop.db.engine.connect() as conn:
                    here = conn.execute(
                        select(SYNC_CONFLICT.c.id).where(SYNC_CONFLICT.c.id == item["id"])
                    ).first()
                assert here is not None, f"conflict {item['id']} missing on {laptop.name}"
        assert all(
            c.kind == "conflict" for laptop in self.laptops for c in list_conflicts(laptop.db)
        ), "only true conflicts: nothing refused, no clashes"

    def _hub_seq(self) -> int:
        from cxfield.hub import storage

        with self.rig.app.state.hub.engine.connect() as conn:
            return int(conn.execute(select(storage.counter.c.value)).scalar() or 0)

    def _hub_state(self) -> tuple[dict[Any, Any], list[dict[str, Any]], dict[str, str]]:
        from cxfield.hub import storage

        with self.rig.app.state.hub.engine.connect() as conn:
            records = {
                (r.table_name, r.row_id): {
                    "hash": r.content_hash,
                    "deleted": r.deleted,
                    "owner": r.owner_account_id,
                    "data": r.data,
                }
                for r in conn.execute(select(storage.record))
            }
            found = [dict(r._mapping) for r in conn.execute(select(storage.conflict))]
            accounts = {r.name: r.id for r in conn.execute(select(storage.account))}
        return records, found, accounts


SyncMachine.TestCase.settings = PROFILE
TestSyncThroughFaults = pytest.mark.timeout(1800)(SyncMachine.TestCase)
