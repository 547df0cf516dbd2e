"""IKM satisfaction survey responses (Survei Kepuasan Masyarakat, PermenPANRB 14/2017).

One response per served ticket: the nine elements U1..U9, each answered on the regulation's
1..4 scale, an optional comment, and where the citizen answered (the counter tablet or the
link in a notice). Office, service, counter and officer are copied from the ticket so the
IKM can be computed per office, service, counter and period without joins.
"""
from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base

#: The nine elements of PermenPANRB 14/2017 (appendix), in order: column names u1..u9.
SURVEY_ELEMENTS = ("u1", "u2", "u3", "u4", "u5", "u6", "u7", "u8", "u9")
#: Longest optional comment kept (characters).
SURVEY_COMMENT_MAX = 500


class SurveyChannel(str, enum.Enum):
    """Where the citizen answered."""

    COUNTER = "counter"  # the survey tablet at the counter
    LINK = "link"        # the signed link /s/<token> (phone; from a notice or the ticket page)


class SurveyResponse(Base):
    """One citizen's answers for one served ticket (unique on ``ticket_id``)."""

    __tablename__ = "survey_responses"
    __table_args__ = (
        Index("ix_survey_responses_office_day", "office_id", "day"),
        *(CheckConstraint(f"{u} BETWEEN 1 AND 4", name=f"{u}_range") for u in SURVEY_ELEMENTS),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), unique=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id", ondelete="CASCADE"))
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    counter_id: Mapped[int | None] = mapped_column(ForeignKey("counters.id", ondelete="SET NULL"), nullable=True)
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"), nullable=True)
    # The survey tablet that took it (channel "counter"), else None.
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id", ondelete="SET NULL"), nullable=True)
    # The ticket's office-local day: the period a response counts in.
    day: Mapped[date] = mapped_column(Date)
    channel: Mapped[str] = mapped_column(String(16))
    u1: Mapped[int] = mapped_column(SmallInteger)
    u2: Mapped[int] = mapped_column(SmallInteger)
    u3: Mapped[int] = mapped_column(SmallInteger)
    u4: Mapped[int] = mapped_column(SmallInteger)
    u5: Mapped[int] = mapped_column(SmallInteger)
    u6: Mapped[int] = mapped_column(SmallInteger)
    u7: Mapped[int] = mapped_column(SmallInteger)
    u8: Mapped[int] = mapped_column(SmallInteger)
    u9: Mapped[int] = mapped_column(SmallInteger)
    comment: Mapped[str | None] = mapped_column(String(SURVEY_COMMENT_MAX), nullable=True)
    submitted_at: Mapped[datetime]

    def values(self) -> list[int]:
        """The nine answers U1..U9 in order."""
        return [getattr(self, u) for u in SURVEY_ELEMENTS]
