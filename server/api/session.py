"""Staff sign-in for scripts and pages: CSRF token, login, logout, who am I."""
from __future__ import annotations

from flask import jsonify
from flask_login import current_user, login_user, logout_user
from flask_wtf.csrf import generate_csrf

from ..services import audit
from ..services.accounts import authenticate_staff
from ..services.actors import Actor
from . import bp
from .helpers import body, transaction


def user_public(user) -> dict:
    return {"id": user.id, "username": user.username, "full_name": user.full_name,
            "role": user.role, "office_id": user.office_id}


@bp.get("/auth/csrf")
def csrf_token():
    """A CSRF token for this session; send it as ``X-CSRFToken`` on unsafe requests.
    ---
    get:
      tags: [auth]
      responses:
        200: {description: '{"csrf_token": str}'}
    """
    return jsonify(csrf_token=generate_csrf())


@bp.post("/auth/login")
def login():
    """Sign a staff user in (session cookie). Body {"username", "password"}.
    ---
    post:
      tags: [auth]
      requestBody:
        content:
          application/json:
            schema: {type: object, required: [username, password], properties: {username: {type: string}, password: {type: string}}}
      responses:
        200: {description: the user}
        401: {description: wrong username or password}
    """
    data = body()
    with transaction() as s:
        user = authenticate_staff(s, str(data.get("username", "")), str(data.get("password", "")))
        if user is None:
            audit.record(s, Actor("public"), "staff.login_failed", "staff", None, office_id=None,
                         data={"username": str(data.get("username", ""))[:80]})
            return jsonify(error="invalid_credentials", message="wrong username or password"), 401
        audit.record(s, Actor("staff", user.id), "staff.login", "staff", user.id, office_id=user.office_id)
        login_user(user)
        return jsonify(user=user_public(user), csrf_token=generate_csrf())


@bp.post("/auth/logout")
def logout():
    """Sign out.
    ---
    post:
      tags: [auth]
      responses:
        200: {description: signed out}
    """
    logout_user()
    return jsonify(ok=True)


@bp.get("/auth/me")
def me():
    """The signed-in user, or 401.
    ---
    get:
      tags: [auth]
      responses:
        200: {description: the user}
        401: {description: not signed in}
    """
    if not current_user.is_authenticated:
        return jsonify(error="unauthorized", message="not signed in"), 401
    return jsonify(user=user_public(current_user))
