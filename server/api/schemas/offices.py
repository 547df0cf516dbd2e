"""Schemas of the office operations (``server.api.offices``): the office list and details,
the screens' snapshot (``snapshots.office_snapshot``) and the day report
(``reports.day_report``)."""
from __future__ import annotations

from marshmallow import fields, validate

from .common import Answer, Body
from .tickets import CallAnswer, CounterAnswer, OfficeAnswer, ServiceAnswer, TicketStreamAnswer

#: Who a snapshot is for (``?audience=``).
AUDIENCES = ("display", "kiosk", "counter")


class OfficeListAnswer(Answer):
    offices = fields.List(fields.Nested(OfficeAnswer), required=True)


class OfficeDetailAnswer(Answer):
    office = fields.Nested(OfficeAnswer, required=True)
    services = fields.List(fields.Nested(ServiceAnswer), required=True, metadata={"description": "active ones"})


class StateQuery(Body):
    audience = fields.String(load_default="display", validate=validate.OneOf(AUDIENCES))


class DeviceHealthAnswer(Answer):
    kind = fields.String()
    state = fields.String()
    detail = fields.String(allow_none=True)
    last_answer_at = fields.String(allow_none=True)


class DeviceAnswer(Answer):
    """A station as the devices page and the kiosk see it (``devices.device_public``)."""

    id = fields.Integer(required=True)
    office_id = fields.Integer(required=True)
    kind = fields.String(required=True)
    name = fields.String(required=True)
    active = fields.Boolean(required=True)
    healthy = fields.Boolean(required=True)
    devices = fields.Dict(keys=fields.String(), values=fields.Nested(DeviceHealthAnswer), required=True,
                          metadata={"description": "the agent's last health report, per device"})
    last_seen_at = fields.String(allow_none=True)
    unhealthy_since = fields.String(allow_none=True)
    last_error = fields.String(allow_none=True)
    last_error_at = fields.String(allow_none=True)


class SnapshotAnswer(Answer):
    """The full state a screen loads (the socket ``sync``'s): no waiting list for a display;
    ``devices`` and ``full_today`` for kiosks and consoles."""

    audience = fields.String(required=True)
    office = fields.Nested(OfficeAnswer, required=True)
    services = fields.List(fields.Nested(ServiceAnswer), required=True)
    counters = fields.List(fields.Nested(CounterAnswer), required=True)
    calls = fields.List(fields.Nested(CallAnswer), required=True, metadata={"description": "newest first"})
    server_time = fields.String(required=True)
    day = fields.String(required=True)
    waiting = fields.List(fields.Nested(TicketStreamAnswer))
    devices = fields.List(fields.Nested(DeviceAnswer))
    full_today = fields.List(fields.String(), metadata={"description": "codes of the services whose daily quota "
                                                                      "is used up"})


class DayQuery(Body):
    date = fields.Date(metadata={"description": "YYYY-MM-DD, office-local; default today"})


class StatsAnswer(Answer):
    """Durations in seconds; null without a value."""

    count = fields.Integer(required=True)
    mean_s = fields.Float(allow_none=True)
    p50_s = fields.Float(allow_none=True)
    p90_s = fields.Float(allow_none=True)
    max_s = fields.Float(allow_none=True)


class ReportFiguresAnswer(Answer):
    issued = fields.Integer(required=True)
    served = fields.Integer(required=True)
    no_show = fields.Integer(required=True)
    cancelled = fields.Integer(required=True)
    transferred = fields.Integer(required=True)
    waiting = fields.Integer(required=True)
    priority = fields.Integer(required=True)
    wait_time = fields.Nested(StatsAnswer, required=True, metadata={"description": "issue to first call"})
    service_time = fields.Nested(StatsAnswer, required=True, metadata={"description": "start to finish"})


class ServiceReportAnswer(ReportFiguresAnswer):
    service = fields.String(required=True)
    letter = fields.String(required=True)
    name_id = fields.String(required=True)
    kind = fields.String(required=True)


class DayReportAnswer(Answer):
    office = fields.String(required=True)
    day = fields.String(required=True)
    total = fields.Nested(ReportFiguresAnswer, required=True)
    services = fields.List(fields.Nested(ServiceReportAnswer), required=True)
