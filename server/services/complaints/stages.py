"""Where an AKAPELA contact can be, and which staff role holds it there (seed 001).

Stages, with the SOP step that sends a contact there:

- ``officer`` (FO/Operator, steps 2-3 and 8): registers, answers, closes with the service report;
- ``section_head`` (step 3: questions of service policy go to the Kepala Seksi);
- ``division_head`` (step 4: doubt about the Kasi's answer goes to the Kepala Bidang);
- ``editor`` (step 5: data-entry errors go to the operator editor with the file);
- ``approval_chain`` (step 6: an unsigned or unissued document is pushed to whoever holds
  the file's current step: Kasi, Kabid or Kadis);
- ``pickup`` (step 7: a finished document goes to the document pickup officer).

Staff roles come from the office's step-role mapping (``applications.roles.step_roles``):
the officer is ``front_office``'s holder, the editor the holder of ``operator_editor`` when
an office maps it (``office.settings["step_roles"]["operator_editor"]``), else of
``operator`` (there is no separate editor login role; by default the front office corrects
entries, as ``applications.roles`` explains).
"""
from __future__ import annotations

from ...models import Application, Office
from ..applications.roles import step_roles

OFFICER, SECTION_HEAD, DIVISION_HEAD = "officer", "section_head", "division_head"
EDITOR, APPROVAL_CHAIN, PICKUP = "editor", "approval_chain", "pickup"
STAGES = (OFFICER, SECTION_HEAD, DIVISION_HEAD, EDITOR, APPROVAL_CHAIN, PICKUP)
#: Where "escalate" sends a contact from each stage (SOP steps 3-4); the Kabid is the top.
ESCALATES_TO = {OFFICER: SECTION_HEAD, SECTION_HEAD: DIVISION_HEAD}
#: The stages the officer routes to by the subject of the contact (SOP steps 5-7).
ROUTE_TARGETS = (EDITOR, APPROVAL_CHAIN, PICKUP)
#: Outcomes (where a closed contact was resolved): a stage name; ``officer`` = answered at once.
OUTCOMES = STAGES


def holder_role(office: Office, stage: str, app: Application | None = None) -> str:
    """The staff role that acts on a contact at ``stage`` in ``office``.

    ``approval_chain`` needs ``app`` (the linked file): its current step's staff role.
    Raises KeyError for an unknown stage, ValueError for approval_chain of a closed file.
    """
    roles = step_roles(office)
    if stage == OFFICER:
        return roles["front_office"]
    if stage in (SECTION_HEAD, DIVISION_HEAD):
        return roles[stage]
    if stage == EDITOR:
        return roles.get("operator_editor") or roles["operator"]
    if stage == PICKUP:
        return roles["pickup_officer"]
    if stage == APPROVAL_CHAIN:
        if app is None or app.step_role is None:
            raise ValueError("the file has no current step")
        return roles.get(app.step_role, app.step_role)
    raise KeyError(stage)
