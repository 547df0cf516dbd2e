"""Reading an application's SOP step list: counter steps, the hand-over step, return targets.

The step list is the catalog's (``server/catalog/*.toml``) as copied onto the application at
registration: [{"code", "role", "minutes", "name_id", "name_en", "return_to"?}]. These are
pure functions of that list, so the chain engine holds no service-specific rule.

Readings of the SOPs (../shared/domain.md, "The life of one request"):

- **Counter steps** are done while the ticket is served: the leading steps whose role is
  ``citizen`` or ``front_office``, up to and including the last front-office step before the
  first step of another role (KTP-el and KK: submit, receive, register, forward; SKPWNI:
  precheck, registration_book). The file then waits at the first step after them.
- **Hand-over step**: the first ``pickup_officer`` step after the counter steps. The file
  is *ready* once the step before it is done; ``hand_over`` then closes it, recording the
  trailing ``citizen`` steps (the applicant signs the proof of collection) with it.
- **Return for correction** (seed 000 steps 8-9, seed 002 steps 5-6) goes back to the
  nearest earlier run of steps held by one other role (citizen steps skipped), to that
  run's main step: the one with the most standard minutes, the first on a tie. Kabid goes
  back to Kasi; Kasi on KTP-el/KK goes back to the front office's ``register`` (10 min:
  check, register; not ``receive`` 5 or ``forward`` 3); Kasi on KIA/PELITA 1 goes back to
  ``entry`` (data entry); Kasi on SKPWNI to the operator's ``siak_process``. A step's
  ``return_to`` (a code of an earlier step) overrides the rule.
"""
from __future__ import annotations

from ..errors import InvalidState

CITIZEN = "citizen"
FRONT_OFFICE = "front_office"
PICKUP = "pickup_officer"
COUNTER_STEP_ROLES = frozenset({CITIZEN, FRONT_OFFICE})


def check_steps(steps: list[dict], service_code: str) -> None:
    """Refuse a step list the chain cannot run: duplicate codes, no step after the counter
    steps, or an officer's step after the hand-over step. Raises InvalidState (a catalog
    problem, not the officer's)."""
    codes = [s["code"] for s in steps]
    if len(set(codes)) != len(codes):
        raise InvalidState(f"service {service_code}: step codes repeat in the catalog")
    if counter_step_count(steps) >= end_index(steps):
        raise InvalidState(f"service {service_code}: no step follows the counter steps")
    hand = handover_index(steps)
    if hand is not None and end_index(steps) != hand + 1:
        raise InvalidState(f"service {service_code}: only the citizen's steps may follow the hand-over step")


def counter_step_count(steps: list[dict]) -> int:
    """How many leading steps are done at the counter (see the module docstring)."""
    count = 0
    for i, step in enumerate(steps):
        if step["role"] not in COUNTER_STEP_ROLES:
            break
        if step["role"] == FRONT_OFFICE:
            count = i + 1
    return count


def handover_index(steps: list[dict]) -> int | None:
    """Index of the hand-over step (first pickup_officer step after the counter), or None."""
    for i in range(counter_step_count(steps), len(steps)):
        if steps[i]["role"] == PICKUP:
            return i
    return None


def end_index(steps: list[dict]) -> int:
    """Index after the last step that is not the citizen's: the trailing citizen steps
    (signing the proof of collection) are recorded together with the step before them."""
    end = len(steps)
    while end > 0 and steps[end - 1]["role"] == CITIZEN:
        end -= 1
    return end


def index_of(steps: list[dict], code: str) -> int:
    """Position of step ``code``; raises InvalidState when the list has no such step."""
    for i, step in enumerate(steps):
        if step["code"] == code:
            return i
    raise InvalidState(f"no step {code!r} in this application's steps")


def return_target(steps: list[dict], index: int) -> int:
    """Where a file returned from step ``index`` goes (see the module docstring).

    Raises InvalidState when ``return_to`` names no earlier step or nothing earlier is held
    by another role (the counter's own first step cannot be returned).
    """
    override = steps[index].get("return_to")
    if override:
        target = index_of(steps, override)
        if target >= index:
            raise InvalidState(f"step {steps[index]['code']}: return_to {override!r} is not an earlier step")
        return target
    role = steps[index]["role"]
    j = index - 1
    while j >= 0 and steps[j]["role"] in (role, CITIZEN):
        j -= 1
    if j < 0:
        raise InvalidState(f"step {steps[index]['code']} has no earlier step to return the file to")
    run_role, run = steps[j]["role"], []
    while j >= 0 and steps[j]["role"] == run_role:
        run.append(j)
        j -= 1
    return max(reversed(run), key=lambda k: float(steps[k]["minutes"]))


def standard_minutes(step: dict) -> float:
    """The step's standard time (mutu baku) in minutes."""
    return float(step["minutes"])

