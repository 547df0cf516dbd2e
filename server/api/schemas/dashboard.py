"""Schemas of the managers' live dashboard (``server.api.dashboard``,
``services.dashboard.snapshot``). Seconds unless a name ends in ``_min`` or ``_pct``; no
citizen names or NIK."""
from __future__ import annotations

from marshmallow import fields

from .common import Answer


class DashOfficeAnswer(Answer):
    id = fields.Integer(required=True)
    code = fields.String(required=True)
    name = fields.String(required=True)
    timezone = fields.String(required=True)


class DashServiceAnswer(Answer):
    id = fields.Integer(required=True)
    code = fields.String(required=True)
    letter = fields.String(required=True)
    name_id = fields.String(required=True)
    name_en = fields.String(required=True)
    waiting = fields.Integer(required=True)
    serving = fields.Integer(required=True)
    longest_wait_s = fields.Integer(allow_none=True)


class DashQueueAnswer(Answer):
    waiting = fields.Integer(required=True)
    serving = fields.Integer(required=True)
    longest_wait_s = fields.Integer(allow_none=True)
    longest_wait_number = fields.String(allow_none=True)


class DashCounterAnswer(Answer):
    id = fields.Integer(required=True)
    number = fields.Integer(required=True)
    label = fields.String(required=True)
    state = fields.String(required=True, metadata={"description": "serving, idle, paused or closed"})
    pause_reason = fields.String(allow_none=True)
    officer = fields.String(allow_none=True, metadata={"description": "the officer's full name"})
    current = fields.String(allow_none=True, metadata={"description": "the number at the counter"})


class CounterSummaryAnswer(Answer):
    serving = fields.Integer(required=True)
    idle = fields.Integer(required=True)
    paused = fields.Integer(required=True)
    closed = fields.Integer(required=True)


class CallBucketAnswer(Answer):
    from_ = fields.String(required=True, data_key="from", attribute="from", metadata={"description": "HH:MM, office-local"})
    calls = fields.Integer(required=True)


class DashCallsAnswer(Answer):
    last_hour = fields.Integer(required=True)
    recalls_last_hour = fields.Integer(required=True)
    per_5_min = fields.List(fields.Nested(CallBucketAnswer), required=True)


class NoShowAnswer(Answer):
    served = fields.Integer(required=True)
    no_show = fields.Integer(required=True)
    ended = fields.Integer(required=True)
    rate_pct = fields.Float(allow_none=True)


class UnhealthyDeviceAnswer(Answer):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    kind = fields.String(required=True)
    reason = fields.String(required=True, metadata={"description": "unhealthy or silent"})
    since = fields.String(allow_none=True)
    last_error = fields.String(allow_none=True)


class DashDevicesAnswer(Answer):
    total = fields.Integer(required=True)
    unhealthy = fields.List(fields.Nested(UnhealthyDeviceAnswer), required=True)
    never_reported = fields.Integer(required=True)


class StepLoadAnswer(Answer):
    service = fields.String(required=True)
    letter = fields.String(required=True)
    step = fields.String(required=True)
    name_id = fields.String(required=True)
    name_en = fields.String(required=True)
    open = fields.Integer(required=True)
    late = fields.Integer(required=True)
    standard_minutes = fields.Float(required=True)


class LateFileAnswer(Answer):
    id = fields.Integer(required=True)
    resi_number = fields.String(allow_none=True)
    service = fields.String(required=True)
    letter = fields.String(required=True)
    step = fields.String(required=True)
    name_id = fields.String(required=True)
    name_en = fields.String(required=True)
    minutes_in_step = fields.Float(required=True)
    standard_minutes = fields.Float(required=True)
    late = fields.Boolean(required=True)
    overdue_working_days = fields.Integer(required=True)
    due_date = fields.String(required=True)


class DashApplicationsAnswer(Answer):
    open = fields.Integer(required=True)
    late_steps = fields.Integer(required=True)
    overdue = fields.Integer(required=True)
    by_step = fields.List(fields.Nested(StepLoadAnswer), required=True)
    worst = fields.List(fields.Nested(LateFileAnswer), required=True)


class FiguresAnswer(Answer):
    """The values the thresholds watch."""

    longest_wait_min = fields.Float(allow_none=True)
    waiting = fields.Integer(required=True)
    no_show_pct = fields.Float(allow_none=True)
    ended = fields.Integer(required=True)
    unhealthy_devices = fields.Integer(required=True)
    late_steps = fields.Integer(required=True)
    overdue = fields.Integer(required=True)


class AlertAnswer(Answer):
    key = fields.String(required=True, metadata={"description": "the figure"})
    setting = fields.String(required=True, metadata={"description": "the threshold"})
    value = fields.Raw(required=True, metadata={"type": "number", "description": "the figure's value, as sent"})
    limit = fields.Raw(required=True, metadata={"type": "number", "description": "the threshold crossed"})


class DashboardAnswer(Answer):
    office = fields.Nested(DashOfficeAnswer, required=True)
    server_time = fields.String(required=True)
    day = fields.String(required=True)
    services = fields.List(fields.Nested(DashServiceAnswer), required=True)
    queue = fields.Nested(DashQueueAnswer, required=True)
    counters = fields.List(fields.Nested(DashCounterAnswer), required=True)
    counter_summary = fields.Nested(CounterSummaryAnswer, required=True)
    calls = fields.Nested(DashCallsAnswer, required=True)
    no_show = fields.Nested(NoShowAnswer, required=True)
    devices = fields.Nested(DashDevicesAnswer, required=True)
    applications = fields.Nested(DashApplicationsAnswer, required=True)
    activations_today = fields.Integer(required=True)
    figures = fields.Nested(FiguresAnswer, required=True)
    thresholds = fields.Dict(keys=fields.String(), values=fields.Integer(allow_none=True), required=True,
                             metadata={"description": "threshold key: its value (null: off)"})
    alerts = fields.List(fields.Nested(AlertAnswer), required=True, metadata={"description": "the thresholds crossed"})
