"""The arrival and service model of one simulated office day (pure: no I/O, no clock).

Everything here is drawn from one ``random.Random(seed)``, so the same seed, ticket count
and standard times always give the same citizens (arrivals, services, priority, no-shows,
walk and service times). ``server.simulate.day`` replays them against a running server.

Sources of the rules and shares:

* Standard times: the catalog's ``counter_minutes`` per service (server/catalog/demo_office.toml,
  from the SOPs in shared/domain.md, seeds 000 and 002). The SOP gives a *maximum*, so the
  median drawn service time is ``SERVICE_MEDIAN_FACTOR`` (0.7) of it.
* Priority citizens (lansia, disabilitas, ibu hamil): UU 25/2009 art. 29; ~12 % of visitors.
* Service mix and arrival curve: an assumption for a city Disdukcapil office (no seed gives
  counts): most citizens come in the morning, with a peak after the office opens.
"""
from __future__ import annotations

import math
import random
from dataclasses import asdict, dataclass

#: Simulated day, minutes after midnight (office-local): doors open, last arrival, closing.
DAY_OPEN_MIN = 7 * 60 + 30      # 07:30
ARRIVALS_END_MIN = 12 * 60      # 12:00, citizens stop coming (kiosk still open)
DAY_CLOSE_MIN = 16 * 60         # 16:00, the simulation stops at the latest

#: Share of citizens per service code (sums to 1.0).
SERVICE_MIX: dict[str, float] = {
    "ktp_el": 0.30, "kk": 0.20, "kia": 0.08, "pelita1": 0.08, "skpwni": 0.05,
    "skdwni": 0.04, "pickup": 0.12, "ktp_activation": 0.08, "info": 0.05,
}
#: Share of priority citizens, and how they split over the three kinds.
PRIORITY_SHARE = 0.12
PRIORITY_KINDS = (("lansia", 0.6), ("disabilitas", 0.2), ("ibu_hamil", 0.2))
#: Share of citizens who leave before they are called (their ticket ends as no-show).
NO_SHOW_SHARE = 0.06
#: Service time: lognormal, median = factor × standard time, log-sd sigma, clipped to
#: [CLIP_LO, CLIP_HI] × standard time (the officer hurries, or overruns the SOP a little).
SERVICE_MEDIAN_FACTOR = 0.7
SERVICE_SIGMA = 0.35
SERVICE_CLIP_LO, SERVICE_CLIP_HI = 0.25, 1.5
#: Seconds (simulated) a called citizen needs to walk to the counter.
WALK_S = (30.0, 90.0)

#: Arrival-rate curve (relative; see :func:`arrival_rate`): a base level plus a Gaussian
#: morning peak centred at 09:00 with a 45-minute width, so 08:30-09:30 is the busiest hour.
PEAK_CENTRE_MIN = 9 * 60
PEAK_WIDTH_MIN = 45.0
BASE_LEVEL = 0.25


@dataclass(frozen=True)
class Citizen:
    """One visitor of the simulated day.

    ``arrival_min``: simulated minutes after midnight; ``service_min``: simulated minutes at
    the counter (start → finish); ``walk_s``: simulated seconds from call to arrival at the
    counter; ``no_show``: leaves before being called (the officer skips the ticket).
    """

    index: int
    arrival_min: float
    service: str
    priority_kind: str | None
    service_min: float
    walk_s: float
    no_show: bool

    def to_dict(self) -> dict:
        """A plain dict (for JSON and comparisons)."""
        return asdict(self)


def arrival_rate(minute: float) -> float:
    """Relative arrival rate at ``minute`` (simulated minutes after midnight); 0 outside
    07:30-12:00. Peak value 1.25 at 09:00, 0.25 + a tail at opening and towards noon."""
    if not DAY_OPEN_MIN <= minute < ARRIVALS_END_MIN:
        return 0.0
    return BASE_LEVEL + math.exp(-(((minute - PEAK_CENTRE_MIN) / PEAK_WIDTH_MIN) ** 2))


_RATE_MAX = BASE_LEVEL + 1.0


def arrival_times(rng: random.Random, count: int) -> list[float]:
    """``count`` sorted arrival times (simulated minutes after midnight).

    A non-homogeneous Poisson process with intensity proportional to :func:`arrival_rate`,
    conditioned on exactly ``count`` arrivals: given the count, the arrival times of such a
    process are independent draws from the normalised rate, sampled here by rejection.
    """
    times: list[float] = []
    while len(times) < count:
        t = rng.uniform(DAY_OPEN_MIN, ARRIVALS_END_MIN)
        if rng.random() * _RATE_MAX <= arrival_rate(t):
            times.append(t)
    return sorted(times)


def service_minutes(rng: random.Random, standard_min: float) -> float:
    """A service time in simulated minutes for a service whose standard time is
    ``standard_min`` minutes (lognormal around 0.7 × standard, clipped; see module)."""
    median = SERVICE_MEDIAN_FACTOR * standard_min
    value = rng.lognormvariate(math.log(median), SERVICE_SIGMA)
    return min(max(value, SERVICE_CLIP_LO * standard_min), SERVICE_CLIP_HI * standard_min)


def _weighted(rng: random.Random, pairs) -> str:
    pairs = list(pairs)
    return rng.choices([k for k, _ in pairs], weights=[w for _, w in pairs])[0]


def generate_day(seed: int, tickets: int, standard_minutes: dict[str, float]) -> list[Citizen]:
    """The day's citizens in arrival order, deterministic for (seed, tickets, standard times).

    ``standard_minutes``: counter_minutes per service code (services absent from it are not
    drawn; the mix is renormalised over the rest). Raises ValueError for tickets < 0.
    """
    if tickets < 0:
        raise ValueError("tickets must be >= 0")
    mix = [(code, share) for code, share in SERVICE_MIX.items() if code in standard_minutes]
    if not mix:
        raise ValueError("no service of the mix is in the catalog")
    rng = random.Random(seed)
    citizens = []
    for i, minute in enumerate(arrival_times(rng, tickets)):
        service = _weighted(rng, mix)
        priority = _weighted(rng, PRIORITY_KINDS) if rng.random() < PRIORITY_SHARE else None
        citizens.append(Citizen(
            index=i, arrival_min=round(minute, 3), service=service, priority_kind=priority,
            service_min=round(service_minutes(rng, standard_minutes[service]), 3),
            walk_s=round(rng.uniform(*WALK_S), 1), no_show=rng.random() < NO_SHOW_SHARE,
        ))
    return citizens


def allocate_counters(count: int, standard_minutes: dict[str, float], min_share: float = 0.1) -> list[list[str]]:
    """Service codes of each of ``count`` counters, in proportion to expected load.

    Load of a service = its share × median service time (share × 0.7 × standard minutes);
    service ``s`` deserves ``count × load_s / total`` counters. Services are laid end to end,
    in catalog (mix) order, on a tape of ``count`` counters of length 1 (McNaughton's
    wrap-around rule): a counter serves every service whose stretch covers at least
    ``min_share`` of it, and a service covering less than that everywhere keeps the counter
    it covers most. So every service has a counter, heavy services have several, and a
    counter serves one to a few neighbouring services. Raises ValueError for count < 1.
    """
    if count < 1:
        raise ValueError("at least one counter is needed")
    load = {code: share * SERVICE_MEDIAN_FACTOR * standard_minutes[code]
            for code, share in SERVICE_MIX.items() if code in standard_minutes}
    total = sum(load.values())
    counters: list[list[str]] = [[] for _ in range(count)]
    pos = 0.0
    for code, value in load.items():
        end = min(pos + count * value / total, float(count))
        overlap = {i: min(end, i + 1) - max(pos, i) for i in range(int(pos), min(count, math.ceil(end)))}
        chosen = [i for i, o in overlap.items() if o >= min_share] or [max(overlap, key=overlap.get)]
        for i in chosen:
            counters[i].append(code)
        pos = end
    return counters


def clock(minute: float) -> str:
    """``minute`` (simulated minutes after midnight) as HH:MM."""
    minute = int(minute)
    return f"{minute // 60:02d}:{minute % 60:02d}"
