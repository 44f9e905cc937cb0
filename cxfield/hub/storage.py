"""The hub's tables (SQLAlchemy Core, the hub's own metadata; created only by
``hub/migrations``).

* ``hub_record`` — the current hub version of every synced row, with the account that owns
  it (visibility) and ``seq``, its place in the change feed;
* ``hub_conflict`` — both versions of every conflicting change (also in the feed);
* ``hub_counter`` — the change cursor, bumped at the end of each write transaction;
* accounts, tokens (only their SHA-256), the admin audit trail and the blob register;
* ``hub_web_session`` — who is signed in to the web pages (only the cookie's SHA-256);
* ``hub_signin_attempt`` — recent failed (and in-flight) web sign-ins, shared by every hub
  process on the database, for the lock-out (:mod:`cxfield.hub.web.throttle`);
* the **projection**: every synced table again under the laptop's own table name and
  columns (no foreign keys, no unique constraints), kept equal to ``hub_record`` by each
  push, so the laptop's SQL aggregates (:mod:`cxfield.services.analysis`) and the study
  report run unchanged over all synced sessions (:mod:`cxfield.hub.projection`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    true,
)

from cxfield.storage.models import SYNCED_TABLES
from cxfield.storage.types import JSONText, UTCDateTime

metadata = MetaData()

CHANGES_COUNTER = "changes"
HUB_ID_SETTING = "hub_id"

record = Table(
    "hub_record",
    metadata,
    Column("table_name", String(40), primary_key=True),
    Column("row_id", String(36), primary_key=True),
    Column("study_id", String(36), nullable=True, index=True),
    Column("session_id", String(36), nullable=True, index=True),
    Column("owner_account_id", String(36), nullable=False, index=True),
    Column("version", Integer, nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("data", JSONText, nullable=False),
    Column("deleted", Boolean, nullable=False, default=False),
    Column("seq", BigInteger, nullable=False, unique=True),
    Column("updated_by", String(36), nullable=False),
    #: the device whose push made this version (its next edit is not a conflict with itself)
    Column("updated_by_device", String(36), nullable=False, default=""),
    Column("updated_at", UTCDateTime, nullable=False),
    #: sites and researchers: the normalised name of a live row (one live row per name)
    Column("name_key", String(200), nullable=True),
    Index("ux_hub_record_name_key", "table_name", "name_key", unique=True),
)

conflict = Table(
    "hub_conflict",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("table_name", String(40), nullable=False),
    Column("row_id", String(36), nullable=False),
    Column("hub_version_before", Integer, nullable=False),
    Column("base_version", Integer, nullable=False),
    Column("winner_hash", String(64), nullable=False),
    Column("loser_hash", String(64), nullable=False),
    #: the hash of the version the pushing device sent (winner or loser)
    Column("pushed_hash", String(64), nullable=False),
    Column("winner_data", JSONText, nullable=False),
    Column("loser_data", JSONText, nullable=False),
    Column("pushed_by", String(36), nullable=False),
    Column("pushed_device", String(36), nullable=False),
    Column("other_account", String(36), nullable=False),
    Column("other_device", String(36), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("resolved_at", UTCDateTime, nullable=True),
    Column("resolved_by", String(36), nullable=True),
    Column("resolution", String(20), nullable=True),
    Column("seq", BigInteger, nullable=False, unique=True),
    Index("ix_hub_conflict_row", "table_name", "row_id"),
)

counter = Table(
    "hub_counter",
    metadata,
    Column("name", String(40), primary_key=True),
    Column("value", BigInteger, nullable=False),
)

setting = Table(
    "hub_setting",
    metadata,
    Column("key", String(100), primary_key=True),
    Column("value", Text, nullable=False),
)

account = Table(
    "hub_account",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(200), nullable=False),
    #: casefolded, spaces collapsed: "Ana  Lima" and "ana lima" are one account
    Column("name_key", String(200), nullable=False, unique=True),
    Column("role", String(20), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("disabled_at", UTCDateTime, nullable=True),
)

token = Table(
    "hub_token",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("account_id", String(36), ForeignKey("hub_account.id"), nullable=False, index=True),
    Column("kind", String(10), nullable=False),  # enrol | device
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("label", String(200), nullable=False, default=""),
    Column("device_id", String(36), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("used_at", UTCDateTime, nullable=True),
    Column("revoked_at", UTCDateTime, nullable=True),
    Column("last_seen_at", UTCDateTime, nullable=True),
)

audit = Table(
    "hub_audit",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("at", UTCDateTime, nullable=False, index=True),
    #: None: done on the hub's own machine (the ``cxfield hub`` CLI)
    Column("account_id", String(36), nullable=True),
    Column("action", String(40), nullable=False),
    Column("target", String(200), nullable=False),
    Column("detail", JSONText, nullable=True),
)

blob = Table(
    "hub_blob",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("size", BigInteger, nullable=False),
    Column("received", BigInteger, nullable=False),
    Column("complete", Boolean, nullable=False, default=False),
    Column("owner_account_id", String(36), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("completed_at", UTCDateTime, nullable=True),
)

web_session = Table(
    "hub_web_session",
    metadata,
    #: SHA-256 of the cookie value (32 random bytes); the cookie itself is never stored
    Column("id_hash", String(64), primary_key=True),
    Column("account_id", String(36), ForeignKey("hub_account.id"), nullable=False, index=True),
    #: the token signed in with: revoking it ends the web session too
    Column("token_id", String(36), nullable=False),
    #: sent back by the sign-out form (CSRF)
    Column("csrf", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("ended_at", UTCDateTime, nullable=True),
)

signin_attempt = Table(
    "hub_signin_attempt",
    metadata,
    Column("id", String(36), primary_key=True),
    #: the client's address as the server sees it (cut to 64 characters)
    Column("client", String(64), nullable=False),
    Column("attempted_at", UTCDateTime, nullable=False),
    Index("ix_hub_signin_attempt_client_time", "client", "attempted_at"),
    Index("ix_hub_signin_attempt_time", "attempted_at"),
)


def _projection_table(model: type) -> Table:
    source: Table = model.__table__  # type: ignore[attr-defined]
    columns = [
        Column(c.name, c.type, primary_key=c.primary_key, nullable=c.primary_key is False)
        for c in source.columns
    ]
    table = Table(source.name, metadata, *columns)
    for index in source.indexes:
        Index(index.name, *[table.c[c.name] for c in index.columns])
    return table


#: laptop table name -> its projection on the hub
projection: dict[str, Table] = {
    model.__tablename__: _projection_table(model)  # type: ignore[misc]
    for model in SYNCED_TABLES
}
# the web page filters a study's sessions by status and date, and reads notes by session
Index(
    "ix_hubp_session_study_status",
    projection["session"].c.study_id,
    projection["session"].c.status,
    projection["session"].c.started_at,
)
Index(
    "ix_hubp_capture_session_step",
    projection["step_capture"].c.session_id,
    projection["step_capture"].c.step_id,
)


# --- facts: the page's aggregates, one narrow row per session and per session × step ------
# (maintained with the projection by each push, :mod:`cxfield.hub.facts`)

#: what the other filters read: carried in the fact indexes on PostgreSQL (INCLUDE), so a
#: date range, site or researcher filter is an index-only scan, never a read of the table
_FILTERED = ["started_at", "site_id", "researcher_id", "session_id"]

#: a fact's ``mode`` when the session is a staff member's (their side of the journey)
STAFF_SIDE = "staff"

fact_session = Table(
    "hub_fact_session",
    metadata,
    Column("session_id", String(36), primary_key=True),
    Column("study_id", String(36), nullable=False),
    Column("status", String(20), nullable=False),
    #: the session's mode, or STAFF_SIDE for a staff member's session (h0008): the page
    #: counts customers and staff apart, each side with its own n
    Column("mode", String(20), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("site_id", String(36), nullable=True),
    Column("researcher_id", String(36), nullable=True),
    Column("participant_id", String(36), nullable=True),
    Column("owner_account_id", String(36), nullable=False),
    #: not withdrawn (analysis leaves withdrawn participants' sessions out)
    Column("included", Boolean, nullable=False),
    Index(
        "ix_hub_fact_session_study",
        "study_id",
        "status",
        "started_at",
        # the overview and the filter form's choices read the index alone (h0007)
        postgresql_include=["mode", "included", "site_id", "researcher_id", "participant_id"],
    ),
)

fact_step = Table(
    "hub_fact_step",
    metadata,
    Column("session_id", String(36), primary_key=True),
    Column("step_id", String(36), primary_key=True),
    Column("study_id", String(36), nullable=False),
    Column("status", String(20), nullable=False),
    Column("mode", String(20), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("site_id", String(36), nullable=True),
    Column("researcher_id", String(36), nullable=True),
    Column("owner_account_id", String(36), nullable=False),
    Column("included", Boolean, nullable=False),
    #: the capture's rating (None: captured without one)
    Column("valence", Integer, nullable=True),
    Column("pain", Boolean, nullable=False),
    #: what the pain point says ("" when nothing was written; None when not a pain point)
    Column("pain_text", Text, nullable=True),
    Index(
        "ix_hub_fact_step_study",
        "study_id",
        "status",
        "step_id",
        "valence",
        "pain",
        "mode",
        "included",
        postgresql_include=_FILTERED,
    ),  # fmt: skip
)

#: the ranked pain points read only the pain-point facts (a few in a hundred; h0007)
fact_step_pain_index = Index(
    "ix_hub_fact_step_pain",
    fact_step.c.study_id,
    fact_step.c.status,
    fact_step.c.started_at,
    # written as the queries write it ("pain = true"), so the planner matches it
    postgresql_where=fact_step.c.pain == true(),
    sqlite_where=fact_step.c.pain == true(),
)

fact_segment = Table(
    "hub_fact_segment",
    metadata,
    Column("session_id", String(36), primary_key=True),
    Column("key", String(100), primary_key=True),
    #: "" when the participant has no value for one of the study's attributes
    Column("value", Text, nullable=False),
    Index("ix_hub_fact_segment_key", "key", "value", "session_id"),
)

#: the equity lens: each session × step fact once per segment attribute of its participant
fact_step_segment = Table(
    "hub_fact_step_segment",
    metadata,
    Column("session_id", String(36), primary_key=True),
    Column("step_id", String(36), primary_key=True),
    Column("key", String(100), primary_key=True),
    Column("value", Text, nullable=False),
    Column("study_id", String(36), nullable=False),
    Column("status", String(20), nullable=False),
    Column("mode", String(20), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("site_id", String(36), nullable=True),
    Column("researcher_id", String(36), nullable=True),
    Column("owner_account_id", String(36), nullable=False),
    Column("included", Boolean, nullable=False),
    Column("valence", Integer, nullable=True),
    Column("pain", Boolean, nullable=False),
    Index(
        "ix_hub_fact_step_segment_study",
        "study_id",
        "key",
        "status",
        "mode",
        "included",
        "value",
        "step_id",
        "valence",
        "pain",
        postgresql_include=_FILTERED,
    ),  # fmt: skip
)
FACT_TABLES = (fact_step_segment, fact_segment, fact_step, fact_session)

# --- running totals of the facts per study × status × site × researcher × step × rating ---
# (what the page reads when no date range is chosen; kept by each push with the facts)
#: stored for "no rating" (a key column cannot be NULL)
NO_RATING = 99


def _totals(name: str, *extra: Column[Any], researcher: bool = True) -> Table:
    by_researcher = [Column("researcher_id", String(36), primary_key=True)] if researcher else []
    return Table(
        name,
        metadata,
        Column("study_id", String(36), primary_key=True),
        *extra,
        Column("status", String(20), primary_key=True),
        Column("mode", String(20), primary_key=True),
        Column("included", Boolean, primary_key=True),
        Column("site_id", String(36), primary_key=True),  # "" for none
        *by_researcher,  # "" for none
        Column("step_id", String(36), primary_key=True),
        Column("valence", Integer, primary_key=True),  # NO_RATING for none
        Column("pain", Boolean, primary_key=True),
        Column("n", Integer, nullable=False),
    )


def _month() -> Column[Any]:
    #: "YYYY-MM" of the session's start (UTC, as the page's date filters)
    return Column("month", String(7), primary_key=True)


total_step = _totals("hub_total_step")
total_step_segment = _totals(
    "hub_total_step_segment",
    Column("key", String(100), primary_key=True),
    Column("value", Text, primary_key=True),
    researcher=False,  # 5 × fewer rows; a researcher filter reads the facts instead
)
# the same per month (h0007): a date range reads its whole months here and only the days
# of a month it cuts from the facts (no researcher: that filter reads the facts)
total_step_month = _totals("hub_total_step_month", _month(), researcher=False)
total_step_segment_month = _totals(
    "hub_total_step_segment_month",
    Column("key", String(100), primary_key=True),
    Column("value", Text, primary_key=True),
    _month(),
    researcher=False,
)
SEGMENT_TOTALS = (total_step_segment, total_step_segment_month)
MONTH_TOTALS = (total_step_month, total_step_segment_month)
TOTAL_TABLES = (total_step, total_step_segment, *MONTH_TOTALS)
withdrawal = Table(
    "hub_withdrawal",
    metadata,
    #: one row per withdrawn participant: the hub keeps no content of theirs from then on
    Column("participant_id", String(36), primary_key=True),
    Column("study_id", String(36), nullable=True),
    Column("requested_by", String(36), nullable=False),
    Column("requested_device", String(36), nullable=False, default=""),
    Column("applied_at", UTCDateTime, nullable=False),
    Column("sessions", Integer, nullable=False),
    Column("rows", Integer, nullable=False),
    Column("blobs", Integer, nullable=False),
)
