"""The hub fuzzed from its own OpenAPI schema (schemathesis, in-process): whatever it is
sent, it answers without a server error, and errors are one-line JSON."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cxfield.hub import accounts
from cxfield.hub.app import create_app
from cxfield.hub.config import HubConfig
from cxfield.hub.migrate import upgrade_hub
from cxfield.storage.models import Site
from tests.hub_support import enrol, push_body, wire

EXAMPLES_PER_OPERATION = 20


@pytest.fixture
def fuzz_hub(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """A hub on SQLite with a researcher's device and one row and one upload on it."""
    from fastapi.testclient import TestClient

    config = HubConfig(tmp_path / "hub")
    upgrade_hub(config.url)
    app = create_app(config)
    _info, token = accounts.add_user(app.state.hub.engine, "Ana", "supervisor")
    with TestClient(app) as client:
        device = enrol(client, token, "fuzz-laptop")
        client.post(
            "/v1/push", json=push_body([wire(Site(name="Fuzz office"))]), headers=device.headers
        )
        yield {"app": app, "headers": {"Authorization": f"Bearer {device.token}"}}


def test_no_request_makes_the_hub_fail(fuzz_hub: dict[str, Any]) -> None:
    """Every operation of the schema, about 20 generated requests each (schemathesis'
    strategies driven by hypothesis, so pytest's collection needs no live app)."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzz_hub["app"])
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 12
    seen: set[str] = set()

    @settings(
        max_examples=EXAMPLES_PER_OPERATION * len(operations),
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=st.one_of([op.as_strategy() for op in operations]))
    def fuzz(case: Any) -> None:
        seen.add(f"{case.method} {case.path}")
        response = case.call(headers=fuzz_hub["headers"])
        assert response.status_code < 500, (case.method, case.path, response.text[:300])
        if response.status_code >= 400 and case.method != "HEAD":
            body = response.json()
            assert isinstance(body.get("detail"), str) and "\n" not in body["detail"], body

    fuzz()
    assert len(seen) == len(operations), seen
