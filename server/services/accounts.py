"""Staff accounts and device tokens: creation and authentication."""
from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from ..models import Device, DeviceKind, Role, StaffUser, utcnow
from . import audit
from .actors import Actor
from .errors import ValidationError


def hash_token(token: str) -> str:
    """SHA-256 hex of a device token (tokens are random, so no salt is needed)."""
    return hashlib.sha256(token.encode()).hexdigest()


def create_staff(
    session: Session, username: str, password: str, role: str, *, full_name: str, office_id: int | None, actor: Actor
) -> StaffUser:
    """Create a staff user with a hashed password. Raises ValidationError: unknown role,
    password < 8 characters, a ``system_admin`` with an office or any other role without
    one (the office scope rule, issue 13; also the database's ``office_scope`` check), or a
    user name already taken."""
    if role not in {r.value for r in Role}:
        raise ValidationError(f"unknown role {role!r}", field="role")
    if role == Role.SYSTEM_ADMIN.value and office_id is not None:
        raise ValidationError("a system administrator has no office", field="office")
    if role != Role.SYSTEM_ADMIN.value and office_id is None:
        raise ValidationError("every account except a system administrator needs an office", field="office")
    if session.scalar(select(StaffUser.id).where(StaffUser.username == username)) is not None:
        raise ValidationError(f"user name {username!r} is already taken", field="username")
    if len(password) < 8:
        raise ValidationError("password must have at least 8 characters", field="password")
    user = StaffUser(username=username, full_name=full_name, role=role, office_id=office_id,
                     password_hash=generate_password_hash(password))
    session.add(user)
    session.flush()
    audit.record(session, actor, "staff.create", "staff", user.id, office_id=office_id, data={"username": username, "role": role})
    return user


#: A hash of a random password, made like every stored one (werkzeug's default method),
#: checked when the user name is unknown or inactive so that such an attempt costs the same
#: time as a wrong password (issue 13: no user-name probing by timing).
_DUMMY_HASH = generate_password_hash(secrets.token_urlsafe(24))


def authenticate_staff(session: Session, username: str, password: str) -> StaffUser | None:
    """The active user with these credentials, or None (same answer for every failure).

    Exactly one password hash is checked on every call, also for an unknown or inactive
    user name (against a dummy hash), so the time does not tell which names exist."""
    user = session.scalars(select(StaffUser).where(StaffUser.username == username)).first()
    if user is None or not user.active:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password):
        return None
    return user


def set_password(session: Session, user_id: int, password: str, *, actor: Actor) -> StaffUser:
    """Give staff user ``user_id`` a new password (>= 8 characters) and end every session
    it has (``session_version`` + 1); audited as ``staff.password``. Raises
    ValidationError (short password, unknown user)."""
    if len(password) < 8:
        raise ValidationError("password must have at least 8 characters", field="password")
    user = session.get(StaffUser, user_id)
    if user is None:
        raise ValidationError(f"unknown staff user {user_id}", field="user")
    user.password_hash = generate_password_hash(password)
    user.session_version = (user.session_version or 0) + 1
    session.flush()
    audit.record(session, actor, "staff.password", "staff", user.id, office_id=user.office_id)
    return user


def deactivate_staff(session: Session, user_id: int, *, actor: Actor) -> StaffUser:
    """Deactivate staff user ``user_id`` (it can no longer sign in) and end its sessions
    (``session_version`` + 1); audited as ``staff.deactivate``. Raises ValidationError for
    an unknown user."""
    user = session.get(StaffUser, user_id)
    if user is None:
        raise ValidationError(f"unknown staff user {user_id}", field="user")
    user.active = False
    user.session_version = (user.session_version or 0) + 1
    session.flush()
    audit.record(session, actor, "staff.deactivate", "staff", user.id, office_id=user.office_id)
    return user


def end_sessions(session: Session, user_id: int, *, actor: Actor, action: str = "staff.logout") -> int | None:
    """Sign staff user ``user_id`` out everywhere: ``session_version`` + 1, so every session
    cookie signed in before (this browser's, a copy of it, another browser's) stops
    working (``server.web.sessions``); audited as ``action``. Returns the new version, or
    None when the user does not exist. The caller commits."""
    user = session.get(StaffUser, user_id)
    if user is None:
        return None
    user.session_version = (user.session_version or 0) + 1
    session.flush()
    audit.record(session, actor, action, "staff", user.id, office_id=user.office_id,
                 data={"session_version": user.session_version})
    return user.session_version


TOKEN_PREFIX = "lkd_"


def create_device(
    session: Session, office_id: int, kind: str, name: str, *, actor: Actor, token: str | None = None
) -> tuple[Device, str]:
    """Register a device; returns (device, token). The token is shown once, stored hashed.

    A new token is ``"lkd_"`` + 32 URL-safe characters (192 random bits). The prefix keeps
    it from starting with "-", which a command line (``loket agent ... --token T``) would
    take for an option, and lets secret scanners recognise a leaked Loket device token.
    """
    if kind not in {k.value for k in DeviceKind}:
        raise ValidationError(f"unknown device kind {kind!r}", field="kind")
    token = token or TOKEN_PREFIX + secrets.token_urlsafe(24)
    device = Device(office_id=office_id, kind=kind, name=name, token_hash=hash_token(token), health={})
    session.add(device)
    session.flush()
    audit.record(session, actor, "device.create", "device", device.id, office_id=office_id, data={"kind": kind, "name": name})
    return device, token


def authenticate_device(session: Session, token: str) -> Device | None:
    """The active device holding ``token``, or None. Updates ``last_seen_at``."""
    if not token:
        return None
    device = session.scalars(select(Device).where(Device.token_hash == hash_token(token))).first()
    if device is None or not device.active or not hmac.compare_digest(device.token_hash, hash_token(token)):
        return None
    now = utcnow()
    if device.last_seen_at is None or (now - device.last_seen_at).total_seconds() > 60:
        device.last_seen_at = now  # at most one write a minute per device
    return device
