"""Applications (permohonan): intake at the counter, the SOP approval chain and the kartu
kendali (issue 4). No Flask imports; each module is named after what it holds:

- ``intake``: the requirements checklist and registering an application from a ticket;
- ``chain``: worklists per role, approve, return for correction, hand over;
- ``control_card``: the kartu kendali view (time per step against its standard);
- ``steps``: reading a step list (counter steps, hand-over step, return targets);
- ``roles``: catalog step roles mapped onto staff roles;
- ``deadlines``: due dates and overdue working days;
- ``records``: what each transition writes (card lines, audit, event, version check).
"""
from .chain import approve, hand_over, return_for_correction, worklist
from .control_card import control_card
from .intake import RequirementsMissing, check_requirements, checklist, register_application
from .records import STALE, application_public

__all__ = [
    "RequirementsMissing", "STALE", "application_public", "approve", "check_requirements", "checklist",
    "control_card", "hand_over", "register_application", "return_for_correction", "worklist",
]
