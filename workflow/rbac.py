"""Roles, API tokens and permissions (seed 7.2 permission risk).

Roles: ``acceptor`` (受理, a branch), ``operator`` and ``checker`` (经办 / 复核, headquarters), ``approver``
(审批), ``compliance`` (read-only, masked data), ``admin``. Tokens are random 256-bit strings shown once; only
their SM3 digest is stored. Acceptors act on their own branch's cases only. The four-eyes rule (the checker
is not the operator) is enforced where reviews are decided (:mod:`workflow.review`).
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from workflow.db import users
from workflow.errors import InvalidInput, WorkflowError
from workflow.signing.sm import sm3

ROLES = ("acceptor", "operator", "checker", "approver", "compliance", "admin")
HQ_ROLES = {"operator", "checker", "approver", "compliance", "admin"}
PERMISSIONS: dict[str, set[str]] = {
    "case.create": {"acceptor"},
    "case.run": {"acceptor", "operator"},
    "case.read": set(ROLES),
    "case.read_pii": {"operator", "checker", "approver"},  # who needs the full number to review
    "review.queue": {"operator", "checker", "approver", "compliance"},
    "review.decide": {"operator"},
    "review.check": {"checker"},
    "sign": {"operator", "approver", "admin"},
    "verify": set(ROLES),
    "audit.read": {"compliance", "admin"},
    "ops.read": {"approver", "compliance", "admin"},
    "cost.read": {"approver", "compliance", "admin"},
    "users.manage": {"admin"},
}


class Unauthorized(WorkflowError):
    code = "unauthorized"


class Forbidden(WorkflowError):
    code = "forbidden"


@dataclass(frozen=True)
class User:
    name: str
    role: str
    branch: str

    def can(self, permission: str) -> bool:
        return self.role in PERMISSIONS.get(permission, set())


def _digest(token: str) -> str:
    return sm3(token.encode()).hex()


def create_user(engine: Engine, name: str, role: str, branch: str = "") -> str:
    """Add a user and return their API token (shown once, stored only as its SM3 digest)."""
    if role not in ROLES:
        raise InvalidInput(f"role {role!r}: expected one of {', '.join(ROLES)}")
    if role == "acceptor" and not branch:
        raise InvalidInput("an acceptor belongs to a branch: give --branch")
    token = "vs_" + secrets.token_urlsafe(32)
    try:
        with engine.begin() as con:
            con.execute(insert(users).values(name=name, role=role, branch=branch, token_sm3=_digest(token),
                                             created_at=time.time(), active=1))
    except IntegrityError as exc:
        raise InvalidInput(f"a user named {name!r} already exists") from exc
    return token


def deactivate(engine: Engine, name: str) -> None:
    with engine.begin() as con:
        con.execute(update(users).where(users.c.name == name).values(active=0))


def authenticate(engine: Engine, token: str | None) -> User:
    if not token:
        raise Unauthorized("missing API token (Authorization: Bearer <token>)")
    with engine.connect() as con:
        row = con.execute(select(users).where(users.c.token_sm3 == _digest(token))).first()
    if row is None or not row.active:
        raise Unauthorized("unknown or revoked API token")
    return User(row.name, row.role, row.branch)


def require(user: User, permission: str, *, branch: str | None = None) -> None:
    """Raise :class:`Forbidden` unless ``user`` holds ``permission`` (and, for branch roles, the branch)."""
    if not user.can(permission):
        raise Forbidden(f"{user.name} ({user.role}) may not {permission}")
    if branch is not None and user.role not in HQ_ROLES and user.branch != branch:
        raise Forbidden(f"{user.name} works at {user.branch}, not {branch}")
