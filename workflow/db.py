"""Workflow state in SQL through SQLAlchemy Core: SQLite at ``$VERISERVE_HOME/workflow.db`` by default, any
SQLAlchemy URL otherwise (PostgreSQL: ``postgresql+psycopg://user:pass@host/veriserve`` with ``psycopg``
installed; set ``VERISERVE_WORKFLOW_DB`` or pass ``--db``)."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import (
    JSON,
    Column,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    event,
)
from sqlalchemy.engine import Engine

metadata = MetaData()

users = Table(
    "users", metadata,
    Column("name", String(64), primary_key=True),
    Column("role", String(32), nullable=False),
    Column("branch", String(64), nullable=False, default=""),
    Column("token_sm3", String(64), nullable=False, unique=True),  # the token itself is never stored
    Column("created_at", Float, nullable=False),
    Column("active", Integer, nullable=False, default=1),
)

cases = Table(
    "cases", metadata,
    Column("id", String(40), primary_key=True),
    Column("case_type", String(64), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("branch", String(64), nullable=False),
    Column("status", String(16), nullable=False),  # open, review, completed, rejected, failed
    Column("current_step", String(64)),
    Column("created_by", String(64), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Column("data", JSON, nullable=False),  # personal fields encrypted (workflow.signing.pii)
)

step_runs = Table(
    "step_runs", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", String(40), ForeignKey("cases.id"), nullable=False),
    Column("step", String(64), nullable=False),
    Column("status", String(16), nullable=False),  # done, failed, review
    Column("attempts", Integer, nullable=False),
    Column("input_sm3", String(64), nullable=False),
    Column("output", JSON),
    Column("evidence", JSON),
    Column("passed", Integer),
    Column("cpu_ms", Float, nullable=False, default=0.0),
    Column("wall_ms", Float, nullable=False, default=0.0),
    Column("started_at", Float, nullable=False),
    Column("finished_at", Float),
    Column("error", Text),
    UniqueConstraint("case_id", "step", name="one_result_per_step"),
)

reviews = Table(
    "reviews", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", String(40), ForeignKey("cases.id"), nullable=False),
    Column("step", String(64), nullable=False),
    Column("reason", Text, nullable=False),
    Column("status", String(16), nullable=False),  # pending, checking, approved, rejected
    Column("operator", String(64)),
    Column("operator_decision", String(16)),
    Column("checker", String(64)),
    Column("opened_at", Float, nullable=False),
    Column("decided_at", Float),
    Column("minutes", Float, nullable=False, default=0.0),
)

audit = Table(
    "audit", metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("at", Float, nullable=False),
    Column("actor", String(64), nullable=False),
    Column("role", String(32), nullable=False),
    Column("action", String(64), nullable=False),
    Column("case_id", String(40)),
    Column("detail", JSON, nullable=False),
    Column("prev_sm3", String(64), nullable=False),
    Column("sm3", String(64), nullable=False),
)


def default_url() -> str:
    url = os.environ.get("VERISERVE_WORKFLOW_DB")
    if url:
        return url
    home = Path(os.environ.get("VERISERVE_HOME", "var")).absolute()
    home.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{home / 'workflow.db'}"


def connect(url: str | None = None) -> Engine:
    """An engine with every table created."""
    url = url or default_url()
    engine = create_engine(url, future=True)
    if url.startswith("sqlite"):
        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_con, _record) -> None:  # concurrent runners and a killed process must not corrupt it
            dbapi_con.execute("PRAGMA journal_mode=WAL")
            dbapi_con.execute("PRAGMA busy_timeout=10000")
            dbapi_con.execute("PRAGMA foreign_keys=ON")
    metadata.create_all(engine)
    return engine
