"""Schemas of the managers' reports (``server.api.report_requests``): one query schema and
one answer schema per report kind (``services.analytics.catalog.KINDS``). Tables of rows
whose columns follow the report's grouping are free-form objects (``fields.Dict``); the
figures every report of a kind has are named."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from ...services.analytics.filters import GROUPS
from .common import Answer, Text

FORMATS = ("json", "csv", "xlsx")

_DATE = {"format": "date", "description": "office-local date, YYYY-MM-DD (default: the report's period)"}
_FILTERS = {
    "service": lambda: Text(60, metadata={"description": "service code"}),
    "counter": lambda: fields.Integer(validate=validate.Range(min=1, max=9999),
                                      metadata={"description": "counter number"}),
    "officer": lambda: Text(60, metadata={"description": "staff username"}),
    "group": lambda: fields.String(validate=validate.OneOf(GROUPS)),
}


def query_schema(kind) -> type[Schema]:
    """The query schema of report ``kind``: ``from``, ``to``, the kind's filters, ``format``
    (json, csv or xlsx; default json)."""
    from .common import Body

    declared = {"from": Text(20, metadata=_DATE), "to": Text(20, metadata=_DATE),
                **{name: _FILTERS[name]() for name in kind.filters},
                "format": fields.String(load_default="json", validate=validate.OneOf(FORMATS))}
    name = "".join(part.title() for part in kind.name.split("-"))
    return Body.from_dict(declared, name=f"{name}ReportQuery")


# ---------------------------------------------------------------------------- shared parts
class Num(fields.Number):
    """A number sent as the report computed it (an integer stays an integer)."""

    num_type = float

    def _format_num(self, value):
        return value if isinstance(value, (int, float)) and not isinstance(value, bool) else float(value)


def _ints() -> fields.Dict:
    return fields.Dict(keys=fields.String(), values=fields.Integer())


def _rows(description: str) -> fields.List:
    return fields.List(fields.Dict(), required=True, metadata={"description": description})


class Filters(Answer):
    service = fields.String(allow_none=True)
    counter = fields.Raw(allow_none=True, metadata={"description": "counter number"})
    officer = fields.String(allow_none=True)


class Stats(Answer):
    """Seconds: count, mean, p50, p90, max (nearest rank); null without data."""

    count = fields.Integer(required=True)
    mean_s = Num(allow_none=True)
    p50_s = Num(allow_none=True)
    p90_s = Num(allow_none=True)
    max_s = Num(allow_none=True)


class Period(Answer):
    office = fields.String(required=True, metadata={"description": "office code"})
    from_ = fields.String(required=True, data_key="from", attribute="from", metadata={"format": "date"})
    to = fields.String(required=True, metadata={"format": "date"})


class FilteredPeriod(Period):
    filters = fields.Nested(Filters, required=True)


class OfficeName(Answer):
    code = fields.String(required=True)
    name = fields.String(required=True)


# ---------------------------------------------------------------------------- waiting
class WaitingLine(Answer):
    key = fields.Raw(allow_none=True, metadata={"description": "the group's key (null for the total)"})
    label = fields.String(required=True)
    issued = fields.Integer(required=True)
    served = fields.Integer(required=True)
    no_show = fields.Integer(required=True)
    cancelled = fields.Integer(required=True)
    transferred = fields.Integer(required=True)
    wait_time = fields.Nested(Stats, required=True)
    service_time = fields.Nested(Stats, required=True)


class Heatmap(Answer):
    weekdays = fields.List(fields.Integer(), required=True)
    hours = fields.List(fields.Integer(), required=True)
    counts = fields.List(fields.List(fields.Integer()), required=True, metadata={"description": "weekday × hour"})


class WaitingReport(FilteredPeriod):
    group = fields.String(required=True)
    total = fields.Nested(WaitingLine, required=True)
    rows = _rows("one line per group (the total's fields)")
    heatmap = fields.Nested(Heatmap, required=True)
    transfers = _rows('{"from_service", "to_service", "count"}')


# ---------------------------------------------------------------------------- productivity
class ProductivityTotal(Answer):
    served = fields.Integer(required=True)
    no_show = fields.Integer(required=True)
    transferred = fields.Integer(required=True)
    mean_service_s = Num(allow_none=True)
    open_s = Num(required=True)
    paused_s = Num(required=True)
    busy_s = Num(required=True)
    idle_s = Num(required=True)


class ProductivityReport(FilteredPeriod):
    rows = _rows("one line per officer")
    total = fields.Nested(ProductivityTotal, required=True)


# ---------------------------------------------------------------------------- control card
class Overdue(Answer):
    submitted = fields.Integer(required=True)
    open = fields.Integer(required=True)
    open_overdue = fields.Integer(required=True)
    finished_on_time = fields.Integer(required=True)
    finished_late = fields.Integer(required=True)
    by_days = _ints()
    files = _rows("the overdue files")


class ControlCardReport(FilteredPeriod):
    steps = _rows("per SOP step: minutes against its standard (mean, p50, p90, max, share late, slowest)")
    slowest_files = _rows("the slowest files")
    overdue = fields.Nested(Overdue, required=True)


# ---------------------------------------------------------------------------- pickups
class PickupFigures(Answer):
    pickups = _ints()
    pickups_total = fields.Integer(required=True)
    activations = fields.Integer(required=True)
    pickup_refusals = fields.Integer(required=True)
    activation_refusals = fields.Integer(required=True)


class PickupDay(PickupFigures):
    date = fields.String(required=True)


class PickupsReport(FilteredPeriod):
    days = fields.List(fields.Nested(PickupDay), required=True)
    totals = fields.Nested(PickupFigures, required=True)
    pickup_refusals_by_channel = _ints()
    refusals_by_reason = _rows('{"kind", "reason", "count"}')


# ---------------------------------------------------------------------------- activations
class ActivationFigures(Answer):
    activations = fields.Integer(required=True)
    fingerprint_failures = fields.Integer(required=True)
    blocked = fields.Integer(required=True)
    released = fields.Integer(required=True)
    refusals = _ints()


class ActivationDay(ActivationFigures):
    date = fields.String(required=True)


class ActivationsReport(Period):
    days = fields.List(fields.Nested(ActivationDay), required=True)
    totals = fields.Nested(ActivationFigures, required=True)
    refusals_by_reason = _rows('{"reason", "count"}')
    queue = _rows("waiting and service time (s) of the activation queue next to the other services")


# ---------------------------------------------------------------------------- IKM
class IkmFigures(Answer):
    responses = fields.Integer(required=True)
    elements = _rows("per element: code, key, names, sum, NRR, weighted NRR")
    unit_value = Num(allow_none=True)
    ikm = Num(allow_none=True)
    grade = fields.String(allow_none=True)
    performance_id = fields.String(allow_none=True)
    performance_en = fields.String(allow_none=True)


class IkmReport(Answer):
    office = fields.Nested(OfficeName, required=True)
    from_ = fields.String(required=True, data_key="from", attribute="from", metadata={"format": "date"})
    to = fields.String(required=True, metadata={"format": "date"})
    service = fields.String(allow_none=True)
    counter = fields.Raw(allow_none=True)
    overall = fields.Nested(IkmFigures, required=True)
    by_service = _rows("the figures per service")
    by_counter = _rows("the figures per counter")
    by_channel = _ints()
    comments = _rows("comments without names")
    rounding = fields.String(required=True)


# ---------------------------------------------------------------------------- complaints
class DurationStats(Answer):
    count = fields.Integer(required=True)
    mean_s = Num(allow_none=True)
    median_s = Num(allow_none=True)
    max_s = Num(allow_none=True)


class ComplaintFigures(Answer):
    contacts = fields.Integer(required=True)
    closed = fields.Integer(required=True)
    first_answer = fields.Nested(DurationStats, required=True)
    resolution = fields.Nested(DurationStats, required=True)


class ComplaintTotals(ComplaintFigures):
    open = fields.Integer(required=True)


class ComplaintKind(ComplaintFigures):
    by_outcome = _ints()


class ComplaintsReport(Answer):
    office = fields.Nested(OfficeName, required=True)
    from_ = fields.String(required=True, data_key="from", attribute="from", metadata={"format": "date"})
    to = fields.String(required=True, metadata={"format": "date"})
    totals = fields.Nested(ComplaintTotals, required=True)
    by_kind = _ints()
    by_channel = _ints()
    by_outcome = _ints()
    kinds = fields.Dict(keys=fields.String(), values=fields.Nested(ComplaintKind), required=True)


#: The answer schema of each report kind.
ANSWERS = {"waiting": WaitingReport, "productivity": ProductivityReport, "control-card": ControlCardReport,
           "pickups": PickupsReport, "activations": ActivationsReport, "ikm": IkmReport,
           "complaints": ComplaintsReport}
