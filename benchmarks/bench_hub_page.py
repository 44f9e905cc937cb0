"""The shared map's speed on PostgreSQL: 20,000 sessions × 15 steps (300,000 captures),
the page rendered (HTTP round trip included) and a filter change (issue 13: ≤ 300 ms and
≤ 200 ms).  Run inside ``pg_virtualenv`` (PGHOST etc. set):

    pg_virtualenv -i "-U postgres" sh -c 'PYTHONPATH=$PWD python benchmarks/bench_hub_page.py'

The rows are written straight into the hub's projection tables and the facts are made
from them by the code each push runs (:func:`cxfield.hub.facts.rebuild`), so the benchmark
measures the page, not the sync.  ``BENCH_SESSIONS`` changes the size."""

from __future__ import annotations

import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import text

from cxfield.domain.ids import new_id
from cxfield.hub import accounts, facts
from cxfield.hub import storage as t
from cxfield.hub.app import create_app
from cxfield.hub.config import HubConfig, make_engine
from cxfield.hub.migrate import upgrade_hub

SESSIONS = int(os.environ.get("BENCH_SESSIONS", "20000"))
STEPS = 15
LANGS = ["English", "Spanish", "Vietnamese", "Chinese", "Arabic"]
STATUSES = ["approved"] * 5 + ["submitted"] * 3 + ["draft", "has_issues", "rejected"]


def _url() -> str:
    host, port = os.environ.get("PGHOST", "localhost"), os.environ.get("PGPORT", "5432")
    user, password = os.environ.get("PGUSER", "postgres"), os.environ.get("PGPASSWORD", "")
    db = os.environ.get("PGDATABASE", "postgres")
    return f"postgresql+psycopg://{user}:{password}@{host}:{port}/{db}"


def _fill(engine: object) -> tuple[str, str]:
    rng = random.Random(13)
    now = datetime(2026, 11, 30, tzinfo=UTC)
    base = {"created_at": now, "updated_at": now, "version": 1, "device_id": "bench"}
    study_id = new_id()
    P = t.projection
    with engine.begin() as conn:  # type: ignore[attr-defined]
        conn.execute(P["study"].insert(), [{**base, "id": study_id, "name": "Bench study",
            "program": "Benefits", "description": "", "consent_text": "", "consent_version": 1,
            "segment_attributes": [{"key": "language", "label": "Language", "values": LANGS}],
            "extra_emotions": [], "survey_version": "v1", "survey_trust_variant": "confidence",
            "survey_effectiveness_variant": "need", "agency": "", "a11_population": "",
            "audio_upload": False}])  # fmt: skip
        stages = [{**base, "id": new_id(), "study_id": study_id, "position": i,
                   "name": f"Stage {i + 1}", "description": ""} for i in range(5)]  # fmt: skip
        conn.execute(P["stage"].insert(), stages)
        steps = [{**base, "id": new_id(), "study_id": study_id, "stage_id": stages[i // 3]["id"],
                  "position": i, "name": f"Step {i + 1}", "description": "", "lane": "user",
                  "channel": "in_person"} for i in range(STEPS)]  # fmt: skip
        conn.execute(P["step"].insert(), steps)
        sites = [{**base, "id": new_id(), "name": f"Site {i}", "location": ""} for i in range(4)]
        conn.execute(P["site"].insert(), sites)
        people = [{**base, "id": new_id(), "name": f"R {i}", "role": "researcher"}
                  for i in range(8)]  # fmt: skip
        conn.execute(P["researcher"].insert(), people)
        chunk = 2000
        for first in range(0, SESSIONS, chunk):
            parts, sess, caps = [], [], []
            for i in range(first, min(SESSIONS, first + chunk)):
                lang = rng.choices(LANGS, [50, 25, 10, 10, 5])[0]
                pid, sid = new_id(), new_id()
                parts.append({**base, "id": pid, "study_id": study_id, "code": f"P{i:06d}",
                              "segments": {"language": lang}, "withdrawn": False})  # fmt: skip
                started = now - timedelta(minutes=rng.randrange(0, 365 * 24 * 60))
                sess.append({**base, "id": sid, "study_id": study_id,
                             "site_id": rng.choice(sites)["id"],
                             "researcher_id": rng.choice(people)["id"], "participant_id": pid,
                             "mode": "interview", "status": rng.choice(STATUSES),
                             "started_at": started, "ended_at": started, "notes": ""})  # fmt: skip
                shift = -0.6 if lang == "Spanish" else 0.0
                for k, step in enumerate(steps):
                    mean = 0.8 - (k % 5) * 0.4 + (shift if k == 2 else 0.0)
                    valence = max(-2, min(2, round(rng.gauss(mean, 1.0))))
                    pain = valence <= -2 and rng.random() < 0.5
                    caps.append({**base, "id": new_id(), "session_id": sid, "step_id": step["id"],
                                 "valence": valence, "emotions": [], "intensity": None,
                                 "pain_point": pain, "notes": "long wait" if pain else "",
                                 "quote": ""})  # fmt: skip
            conn.execute(P["participant"].insert(), parts)
            conn.execute(P["session"].insert(), sess)
            conn.execute(P["step_capture"].insert(), caps)
        started = time.perf_counter()
        facts.rebuild(conn)
        print(f"facts of {SESSIONS} sessions made in {time.perf_counter() - started:.0f} s")
    # what autovacuum does soon after a big sync: visibility map and statistics
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:  # type: ignore[attr-defined]
        conn.execute(text("VACUUM ANALYZE"))
    return study_id, sites[0]["id"]


def _time(client: TestClient, url: str, headers: dict[str, str], runs: int = 7) -> list[float]:
    client.get(url, headers=headers)  # warm
    out = []
    for _ in range(runs):
        started = time.perf_counter()
        answer = client.get(url, headers=headers)
        out.append((time.perf_counter() - started) * 1000)
        assert answer.status_code == 200, answer.text[:300]
    return out


def _profile(client: TestClient, url: str, headers: dict[str, str]) -> None:
    """Where one request's time goes (``--profile``): each query of the page timed where
    the page calls it (the request runs in the server's thread, out of cProfile's sight)."""
    from cxfield.hub.web import aggregates, data
    from cxfield.services import analysis

    spent: list[tuple[str, float]] = []

    def timed(module: object, name: str) -> tuple[object, str, object]:
        original = getattr(module, name)

        def wrapper(*args: object, **kwargs: object) -> object:
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                spent.append((name, (time.perf_counter() - started) * 1000))

        setattr(module, name, wrapper)
        return module, name, original

    patched = [timed(aggregates, n) for n in ("overview", "choices", "step_aggregates",
               "pain_points_ranked", "segment_view", "survey_counts")]  # fmt: skip
    patched += [timed(analysis, n) for n in ("observation_times", "representative_quotes")]
    patched += [timed(data, n) for n in ("get_journey", "map_data", "selection")]
    try:
        started = time.perf_counter()
        client.get(url, headers=headers)
        total = (time.perf_counter() - started) * 1000
    finally:
        for module, name, original in patched:
            setattr(module, name, original)
    print(f"--- {url}: {total:.0f} ms in all; " + ", ".join(f"{n} {ms:.0f}" for n, ms in spent))


def main() -> int:
    url = _url()
    upgrade_hub(url)
    engine = make_engine(url)
    started = time.perf_counter()
    study_id, site_id = _fill(engine)
    print(f"filled {SESSIONS} sessions × {STEPS} steps in {time.perf_counter() - started:.0f} s")
    _info, enrol = accounts.add_user(engine, "Bench viewer", "viewer")
    token, _id, _a = accounts.enrol(engine, enrol, "bench", "bench")
    headers = {"Authorization": f"Bearer {token}"}
    with tempfile.TemporaryDirectory() as hub_dir:
        app = create_app(HubConfig(Path(hub_dir), url))
        with TestClient(app) as client:
            page = _time(client, f"/studies/{study_id}", headers)
            filtered = _time(
                client, f"/studies/{study_id}?site={site_id}&status=approved&status=submitted",
                headers,
            )  # fmt: skip
            segment = _time(client, f"/studies/{study_id}?segment=language%3DSpanish", headers)
            dates = _time(client, f"/studies/{study_id}?from=2026-03-01&to=2026-08-31", headers)
            if "--profile" in sys.argv:
                for path in ("", "?from=2026-03-01&to=2026-08-31"):
                    _profile(client, f"/studies/{study_id}{path}", headers)
    for name, values, limit in (
        ("page render (default: approved)", page, 300),
        ("filter change (site + 2 states)", filtered, 200),
        ("filter change (segment)", segment, 200),
        ("filter change (date range: whole months from the monthly totals)", dates, 200),
    ):
        med = statistics.median(values)
        print(f"{name}: median {med:.0f} ms, max {max(values):.0f} ms (limit {limit} ms)")
    engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
