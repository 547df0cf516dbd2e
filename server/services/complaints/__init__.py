"""AKAPELA information requests and complaints (seed 001, issue 7). No Flask imports; each
module is named after what it holds:

- ``stages``: where a contact can be and which staff role holds it there;
- ``registration``: checking and registering a contact, its public number;
- ``routing``: answer, escalate, route (editor, approval chain, pickup), reply, close;
- ``records``: what each move writes (kartu kendali line, audit row, version check);
- ``views``: the staff list per role, the staff detail, the public status look-up;
- ``report``: counts and answer/resolution times per period.
"""
from .registration import ContactInvalid, register_contact
from .routing import answer, close, escalate, reply, route

__all__ = ["ContactInvalid", "answer", "close", "escalate", "register_contact", "reply", "route"]
