"""The community satisfaction index (IKM), PermenPANRB 14/2017, appendix.

For a set of responses (an office, optionally one service or counter, a period of days):

- NRR per element (nilai rata-rata) = sum of the element's values / number of responses;
- weighted NRR (NRR tertimbang) = NRR × 1/9 (nine elements, equal weights);
- IKM unit value (nilai indeks unit pelayanan) = Σ weighted NRR (1.00 .. 4.00);
- IKM = unit value × 25 (25.00 .. 100.00, the "nilai konversi");
- grade and performance: A 88.31-100.00 Sangat Baik, B 76.61-88.30 Baik,
  C 65.00-76.60 Kurang Baik, D 25.00-64.99 Tidak Baik.

Rounding (ours; the regulation prints its bands with two decimals): every step is computed
exactly (``fractions.Fraction``; the weight is the exact 1/9, not the 0.111 of hand-made
sheets, which would bias every IKM down by 0.1 %). Only results are rounded, half up
(``decimal.ROUND_HALF_UP``): NRR, weighted NRR and unit value to 3 decimals, IKM to 2
decimals. The grade is read from the IKM rounded to 2 decimals, so the bands' printed
edges are exact (88.305 → 88.31 → A; 88.3049 → 88.30 → B).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Iterable, Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ...models import Counter, Office, Service, SurveyResponse
from ..errors import ValidationError
from ..queue.presenters import iso
from .elements import ELEMENTS

#: (grade, lowest IKM of the band, performance in Indonesian, in English), best first.
GRADES = (
    ("A", Decimal("88.31"), "Sangat Baik", "Very good"),
    ("B", Decimal("76.61"), "Baik", "Good"),
    ("C", Decimal("65.00"), "Kurang Baik", "Poor"),
    ("D", Decimal("25.00"), "Tidak Baik", "Very poor"),
)
WEIGHT = Fraction(1, len(ELEMENTS))
MAX_PERIOD_DAYS = 731
MAX_COMMENTS = 500


def _round(value: Fraction, places: int) -> Decimal:
    """``value`` rounded half up to ``places`` decimals."""
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def grade_of(ikm: Decimal | Fraction | float | str) -> tuple[str, str, str]:
    """(grade, performance_id, performance_en) of an IKM value (25..100), read after
    rounding it half up to 2 decimals. Raises ValueError outside 25.00..100.00."""
    value = ikm if isinstance(ikm, Decimal) else (
        _round(ikm, 2) if isinstance(ikm, Fraction) else Decimal(str(ikm)))
    value = value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    if not Decimal("25.00") <= value <= Decimal("100.00"):
        raise ValueError(f"an IKM lies between 25.00 and 100.00, got {value}")
    for grade, low, perf_id, perf_en in GRADES:
        if value >= low:
            return grade, perf_id, perf_en
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class IkmResult:
    """The IKM of ``responses`` responses: per element {"code", "key", "name_id", "name_en",
    "sum", "nrr", "weighted"} (Decimals, 3 places), ``unit_value`` (3 places), ``ikm``
    (2 places), ``grade`` and ``performance_id``/``_en``; all None but ``elements[*].sum``
    when there are no responses."""

    responses: int
    elements: tuple[dict, ...]
    unit_value: Decimal | None
    ikm: Decimal | None
    grade: str | None
    performance_id: str | None
    performance_en: str | None

    def as_dict(self) -> dict:
        """JSON-ready: Decimals as numbers (floats) with their rounding kept."""
        f = lambda d: None if d is None else float(d)  # noqa: E731
        return {"responses": self.responses,
                "elements": [{**e, "nrr": f(e["nrr"]), "weighted": f(e["weighted"])} for e in self.elements],
                "unit_value": f(self.unit_value), "ikm": f(self.ikm), "grade": self.grade,
                "performance_id": self.performance_id, "performance_en": self.performance_en}


def ikm_of(responses: int, sums: Sequence[int]) -> IkmResult:
    """The IKM of ``responses`` responses whose element sums are ``sums`` (U1..U9, each the
    sum of that element's 1..4 values). Raises ValueError for a wrong shape."""
    if len(sums) != len(ELEMENTS) or responses < 0:
        raise ValueError("nine element sums and a response count >= 0 are needed")
    if responses == 0:
        return IkmResult(0, tuple({"key": el.key, "code": el.code, "name_id": el.name_id, "name_en": el.name_en,
                                   "sum": 0, "nrr": None, "weighted": None} for el in ELEMENTS),
                         None, None, None, None, None)
    nrrs = [Fraction(int(s), responses) for s in sums]
    unit = sum((n * WEIGHT for n in nrrs), Fraction(0))
    ikm = _round(unit * 25, 2)
    grade, perf_id, perf_en = grade_of(ikm)
    elements = tuple({"key": el.key, "code": el.code, "name_id": el.name_id, "name_en": el.name_en,
                      "sum": int(s), "nrr": _round(n, 3), "weighted": _round(n * WEIGHT, 3)}
                     for el, s, n in zip(ELEMENTS, sums, nrrs))
    return IkmResult(responses, elements, _round(unit, 3), ikm, grade, perf_id, perf_en)


def _filters(office: Office, first: date, last: date, service_id: int | None, counter_id: int | None) -> list:
    conds = [SurveyResponse.office_id == office.id, SurveyResponse.day >= first, SurveyResponse.day <= last]
    if service_id is not None:
        conds.append(SurveyResponse.service_id == service_id)
    if counter_id is not None:
        conds.append(SurveyResponse.counter_id == counter_id)
    return conds


def _grouped(session: Session, conds: list, key) -> Iterable[tuple]:
    cols = [func.count(SurveyResponse.id), *(func.sum(getattr(SurveyResponse, el.key)) for el in ELEMENTS)]
    stmt = select(*([key] if key is not None else []), *cols).where(*conds)
    if key is not None:
        stmt = stmt.group_by(key)
    return session.execute(stmt).all()


def ikm_report(session: Session, office: Office, first: date, last: date, *, service: str | None = None,
               counter: int | None = None, lang: str = "id") -> dict:
    """The IKM of ``office`` over office-local days ``first``..``last`` (the served
    tickets' days), optionally of one service (code) and/or counter (number).

    Returns {"office", "from", "to", "service", "counter", "overall": IkmResult.as_dict(),
    "by_service": [{"code", "name", **result}], "by_counter": [{"number", "label", **result}],
    "by_channel": {"counter": n, "link": n}, "comments": [{"day", "submitted_at", "service",
    "counter", "comment"}] (newest first, at most MAX_COMMENTS; no names), "rounding"}.
    Raises ValidationError for a reversed or too long period or an unknown service/counter.
    """
    if last < first:
        raise ValidationError(key="error.survey.period_reversed", field="to")
    if (last - first).days > MAX_PERIOD_DAYS:
        raise ValidationError(key="error.survey.period_too_long", params={"days": MAX_PERIOD_DAYS}, field="from")
    services = {s.id: s for s in session.scalars(select(Service).where(Service.office_id == office.id))}
    counters = {c.id: c for c in session.scalars(select(Counter).where(Counter.office_id == office.id))}
    service_id = counter_id = None
    if service:
        service_id = next((s.id for s in services.values() if s.code == service), None)
        if service_id is None:
            raise ValidationError(key="error.survey.unknown_service", params={"service": service}, field="service")
    if counter is not None:
        counter_id = next((c.id for c in counters.values() if c.number == counter), None)
        if counter_id is None:
            raise ValidationError(key="error.survey.unknown_counter", params={"counter": counter}, field="counter")
    conds = _filters(office, first, last, service_id, counter_id)
    (total, *sums), = _grouped(session, conds, None)
    by_service = [
        {"code": services[sid].code, "name": services[sid].name(lang), **ikm_of(n, s).as_dict()}
        for sid, n, *s in sorted(_grouped(session, conds, SurveyResponse.service_id),
                                 key=lambda row: (services[row[0]].sort_order, services[row[0]].code))]
    by_counter = sorted(
        ({"number": counters[cid].number if cid in counters else None,
          "label": counters[cid].label if cid in counters else "-", **ikm_of(n, s).as_dict()}
         for cid, n, *s in _grouped(session, conds, SurveyResponse.counter_id)),
        key=lambda r: (r["number"] is None, r["number"] or 0))
    channels = dict(session.execute(select(SurveyResponse.channel, func.count(SurveyResponse.id))
                                    .where(*conds).group_by(SurveyResponse.channel)).all())
    comments = [
        {"day": r.day.isoformat(), "submitted_at": iso(r.submitted_at),
         "service": services[r.service_id].name(lang) if r.service_id in services else None,
         "counter": counters[r.counter_id].label if r.counter_id in counters else None, "comment": r.comment}
        for r in session.scalars(select(SurveyResponse).where(*conds, SurveyResponse.comment.is_not(None))
                                 .order_by(SurveyResponse.submitted_at.desc()).limit(MAX_COMMENTS))
    ]
    return {
        "office": {"code": office.code, "name": office.name}, "from": first.isoformat(), "to": last.isoformat(),
        "service": service, "counter": counter,
        "overall": ikm_of(total or 0, [s or 0 for s in sums]).as_dict(),
        "by_service": by_service, "by_counter": by_counter,
        "by_channel": {"counter": channels.get("counter", 0), "link": channels.get("link", 0)},
        "comments": comments,
        "rounding": "exact fractions, weight 1/9; NRR, weighted NRR and unit value rounded half up to 3 decimals, "
                    "IKM to 2; the grade is read from the rounded IKM",
    }

