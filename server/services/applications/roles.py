"""Who acts on a step: the catalog's step roles mapped onto staff roles.

The catalog names the seeds' actors (``printing_operator``, ``operator`` ...); staff logins
have the roles of ``server.models.Role``. There is no printing-operator or operator login
role, so those steps go to ``front_office`` by default (in the seeds the counter staff print
drafts and enter data in SIAK). An office changes the mapping in its settings:
``office.settings["step_roles"] = {"printing_operator": "section_head"}``.
``citizen`` steps are nobody's: the counter or pickup officer records them.
"""
from __future__ import annotations

from ...models import Office, Role
from ..actors import Actor
from ..errors import Forbidden, ValidationError

DEFAULT_STEP_ROLES: dict[str, str] = {
    "front_office": Role.FRONT_OFFICE.value,
    "operator": Role.FRONT_OFFICE.value,
    "printing_operator": Role.FRONT_OFFICE.value,
    "section_head": Role.SECTION_HEAD.value,
    "division_head": Role.DIVISION_HEAD.value,
    "head_of_office": Role.HEAD_OF_OFFICE.value,
    "activation_officer": Role.ACTIVATION_OFFICER.value,
    "pickup_officer": Role.PICKUP_OFFICER.value,
}
_STAFF_ROLES = frozenset(r.value for r in Role)


def step_roles(office: Office) -> dict[str, str]:
    """{catalog step role: staff role} for ``office``: the defaults with its overrides.

    Raises ValidationError when an override names a role that is not a staff role.
    """
    overrides = (office.settings or {}).get("step_roles") or {}
    for step_role, staff_role in overrides.items():
        if staff_role not in _STAFF_ROLES:
            raise ValidationError(f"step_roles.{step_role}: {staff_role!r} is not a staff role", field="step_roles")
    return {**DEFAULT_STEP_ROLES, **overrides}


def step_roles_of(office: Office, staff_role: str) -> set[str]:
    """The catalog step roles whose steps ``staff_role`` acts on (empty for manager)."""
    return {step for step, staff in step_roles(office).items() if staff == staff_role}


def require_step_role(actor: Actor, office: Office, step_role: str | None) -> None:
    """Check that ``actor`` may act on a step held by ``step_role``.

    Staff only, of the application's office (a system admin without an office may act
    anywhere); the staff role must be the one the step maps to, or admin.
    Raises Forbidden otherwise.
    """
    if actor.type != "staff":
        raise Forbidden(key="error.application.staff_only")
    if not actor.may_access(office.id):
        raise Forbidden(key="error.application.other_office")
    if actor.is_admin:
        return
    wanted = step_roles(office).get(step_role or "")
    if wanted is None or actor.role != wanted:
        raise Forbidden(
            key="error.application.step_role", params={"role": wanted or step_role},
            step_role=step_role, required_role=wanted,
        )
