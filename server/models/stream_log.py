"""The office event log: every realtime message of an office, numbered in commit order.

Each office has two streams (``public``: TV displays, kiosks, ticket pages, survey tablets;
``staff``: counter consoles, worklists, dashboards). A transaction that changes what a
screen shows appends its messages to the log in the same transaction
(``services.stream_log``): the office's :class:`StreamHead` row is bumped (and stays
row-locked until the commit), so positions are gapless and follow the commit order. Screens
that reconnect or miss a message ask for the entries after their last position
(:class:`StreamEntry`), read from here.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base

PUBLIC, STAFF = "public", "staff"
STREAMS = (PUBLIC, STAFF)


class StreamHead(Base):
    """The last position of each stream of one office, and the log's identity.

    ``log_id`` is made when the row is: a screen whose position belongs to another log
    (a database restored or rebuilt) loads the full state instead of replaying.
    """

    __tablename__ = "stream_heads"
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id", ondelete="CASCADE"), primary_key=True)
    public_position: Mapped[int] = mapped_column(BigInteger, default=0)
    staff_position: Mapped[int] = mapped_column(BigInteger, default=0)
    log_id: Mapped[str] = mapped_column(String(16))


class StreamEntry(Base):
    """One message of one office stream at ``position`` (1, 2, 3 ... without gaps).

    ``name``: the socket message (ticket, call, counter, device, resync, application,
    resi_print); ``data``: its payload (no personal data on the public stream); ``at``:
    commit time (UTC), used to prune old entries.
    """

    __tablename__ = "stream_entries"
    __table_args__ = (Index("ix_stream_entries_at", "at"),)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id", ondelete="CASCADE"), primary_key=True)
    stream: Mapped[str] = mapped_column(String(8), primary_key=True)
    position: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(32))
    data: Mapped[dict] = mapped_column()
    at: Mapped[datetime] = mapped_column()
