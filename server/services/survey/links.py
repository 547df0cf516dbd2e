"""The signed survey link ``/s/<token>`` for phones (in notices and on the ticket page).

Token, version 1 (the resi QR's scheme, ``services.resi.ResiSigner``, with its own key and
version so neither passes for the other)::

    LKS1.<office_code>.<ticket number>-<YYYYMMDD>.<ticket_id>.<sig>

``sig``: the first 16 bytes of HMAC-SHA256(derive_key(SECRET_KEY, b"loket-survey-v1"),
body), base32. Only the office code, the ticket's number and day and its row id: no name,
NIK or phone. A forged or altered token is refused (``SurveyLinkInvalid``).
"""
from __future__ import annotations

from ...models import Office, Ticket
from ..errors import LoketError
from ..resi import ResiError, ResiForged, ResiRef, ResiSigner, derive_key

VERSION = "LKS1"
KEY_INFO = b"loket-survey-v1"


class SurveyLinkInvalid(LoketError):
    """The survey link is not genuine (forged, altered, truncated or not a survey link).
    ``details["reason"]``: "forged", "malformed" or "foreign"."""

    code = "survey_link_invalid"
    http_status = 400


class SurveySigner:
    """Makes and checks survey link tokens with one app secret."""

    def __init__(self, secret_key: str) -> None:
        self._signer = ResiSigner(derive_key(secret_key, KEY_INFO), version=VERSION)

    def token(self, ticket: Ticket, office: Office) -> str:
        """The token of ``ticket`` (of ``office``): ``LKS1.DEMO.A012-20261205.57.<sig>``."""
        return self._signer.make_payload(ticket.id, office.code, f"{ticket.display_number}-{ticket.day:%Y%m%d}")

    def verify(self, token: str) -> ResiRef:
        """The (office code, number-day, ticket id) a genuine token names. Raises
        ``SurveyLinkInvalid`` (reason forged / malformed / foreign)."""
        try:
            return self._signer.verify(token)
        except ResiForged:
            raise SurveyLinkInvalid(key="error.survey.link_forged", reason="forged") from None
        except ResiError as exc:
            raise SurveyLinkInvalid(key="error.survey.link_invalid", reason=exc.reason) from None


def survey_signer(secret_key: str) -> SurveySigner:
    """A ``SurveySigner`` for the app's SECRET_KEY. Raises ValueError when it is empty."""
    return SurveySigner(secret_key)


def ticket_of_link(session, signer: SurveySigner, token: str) -> Ticket:
    """The ticket a genuine survey link names. Raises SurveyLinkInvalid (forged, altered,
    or naming a ticket it was not made for) and NotFound (the ticket no longer exists)."""
    from sqlalchemy import select

    from ..errors import NotFound

    ref = signer.verify(token)
    ticket = session.get(Ticket, ref.resi_id)
    if ticket is None:
        raise NotFound(key="error.survey.ticket_not_found")
    office_code = session.scalar(select(Office.code).where(Office.id == ticket.office_id))
    if office_code != ref.office_code or f"{ticket.display_number}-{ticket.day:%Y%m%d}" != ref.resi_number:
        raise SurveyLinkInvalid(key="error.survey.link_invalid", reason="mismatch")
    return ticket


#: ``Session.info`` key holding (SurveySigner, base_url callable) for notices.
NOTICE_LINK_KEY = "loket_survey_links"


def install_notice_links(factory, secret_key: str, base_url) -> None:
    """Let notices written through ``factory``'s sessions carry survey links: ``base_url``
    is a callable answering the public base URL (LOKET_PUBLIC_URL) or None/"" (no link)."""
    factory.configure(info={NOTICE_LINK_KEY: (SurveySigner(secret_key), base_url)})


def notice_survey_url(session, ticket_id: int | None) -> str | None:
    """The absolute survey link ``<base>/s/<token>`` of served ticket ``ticket_id`` for a
    notice, or None: no ticket, not served, already answered, or no public base URL or
    signer installed on the session (``install_notice_links``)."""
    from .responses import answered

    found = session.info.get(NOTICE_LINK_KEY)
    if not found or ticket_id is None:
        return None
    signer, base_url = found
    base = (base_url() or "").rstrip("/")
    ticket = session.get(Ticket, ticket_id) if base else None
    if ticket is None or ticket.status != "done" or answered(session, ticket.id):
        return None
    return f"{base}/s/{signer.token(ticket, session.get(Office, ticket.office_id))}"
