"""Generated camera frames: the deterministic frame set (:func:`frame_set`, every kind of
frame a Drive-Thru camera sees, readable or not) and a clip of a code held up
(:func:`code_in_view`). Each frame is drawn by :mod:`.scene`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .scene import Placement, qr_modules, render

#: The two frame sizes of the set (width, height).
FRAME_SIZES = ((640, 480), (1280, 720))

#: Frame kinds with a code a working camera set-up should read (counted in the decode rate).
READABLE_KINDS = ("plain", "size", "rotation", "blur", "noise", "perspective", "glare", "low_contrast",
                  "multi", "combined")
#: How many frames of each kind per frame size in :func:`frame_set`.
KIND_COUNTS = {"plain": 4, "size": 10, "rotation": 12, "blur": 10, "noise": 10, "perspective": 12,
               "glare": 10, "low_contrast": 8, "multi": 8, "combined": 12, "empty": 6, "hard": 6,
               "damaged": 6}


@dataclass
class SimFrame:
    """One generated frame: ``image`` (BGR uint8), the ``codes`` drawn readable in it,
    its ``kind`` (see :data:`KIND_COUNTS`) and the parameters used (``params``)."""

    image: np.ndarray
    codes: tuple[str, ...]
    kind: str
    params: dict = field(default_factory=dict)

    @property
    def readable(self) -> bool:
        """True when a decoder is expected to read every code in it."""
        return self.kind in READABLE_KINDS


def ticket_url(rng: np.random.Generator, base: str = "http://127.0.0.1:8080") -> str:
    """A ticket status URL like those printed on Loket tickets, with a random public id."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    length = int(rng.choice([8, 16, 24]))
    return f"{base}/t/" + "".join(alphabet[i] for i in rng.integers(0, len(alphabet), length))


def _side(text: str, module_px: float) -> float:
    return (qr_modules(text).shape[0] + 2 * 6) * module_px


def _fit_px(text: str, module_px: float, room: float) -> float:
    """``module_px`` reduced so the card fits in ``room`` pixels."""
    return min(module_px, room / (qr_modules(text).shape[0] + 12))


def _one(size, rng, kind, text, *, px=None, angle=None, tilt=None, damaged=False):
    w, h = size
    px = _fit_px(text, px if px is not None else float(rng.uniform(4, 7)), 0.8 * min(w, h))
    side = _side(text, px) * 1.2
    cx = float(rng.uniform(side / 2, w - side / 2)) if side < w else w / 2
    cy = float(rng.uniform(side / 2, h - side / 2)) if side < h else h / 2
    return Placement(text, px, (cx, cy), float(rng.uniform(-8, 8)) if angle is None else angle,
                     (0.0, 0.0) if tilt is None else tilt, damaged)


def make_frame(size: tuple[int, int], kind: str, rng: np.random.Generator, index: int = 0) -> SimFrame:
    """One frame of ``kind`` (a key of :data:`KIND_COUNTS`); ``index`` spreads the
    parameters of a kind over its frames."""
    w, h = size
    text = ticket_url(rng)
    effects: dict = {}
    placements: list[Placement] = []
    if kind == "empty":
        pass
    elif kind == "plain":
        placements = [_one(size, rng, kind, text)]
    elif kind == "size":
        px = [2.0, 2.5, 3.0, 3.5, 4.0, 5.0, 6.0, 8.0, 11.0, 14.0][index % 10]
        placements = [_one(size, rng, kind, text, px=px)]
    elif kind == "rotation":
        placements = [_one(size, rng, kind, text, angle=float(rng.uniform(0, 360)))]
    elif kind == "blur":
        p = _one(size, rng, kind, text)
        if index % 2:
            effects["motion"] = float(rng.uniform(0.7, 1.3)) * p.module_px
        else:
            effects["blur"] = float(rng.uniform(0.3, 0.55)) * p.module_px
        placements = [p]
    elif kind == "noise":
        placements = [_one(size, rng, kind, text)]
        effects["noise"] = float(rng.uniform(10, 35))
    elif kind == "perspective":
        tilt = (float(rng.uniform(-45, 45)), float(rng.uniform(-45, 45)))
        placements = [_one(size, rng, kind, text, px=float(rng.uniform(4, 8)), angle=float(rng.uniform(0, 360)), tilt=tilt)]
    elif kind == "glare":
        p = _one(size, rng, kind, text, px=float(rng.uniform(4, 8)))
        side = _side(text, p.module_px)
        off = rng.uniform(-0.3, 0.3, 2) * side
        effects["glare"] = {"center": (p.center[0] + off[0], p.center[1] + off[1]),
                            "axes": (float(rng.uniform(0.15, 0.35)) * side, float(rng.uniform(0.1, 0.25)) * side),
                            "angle": float(rng.uniform(0, 180)), "gain": float(rng.uniform(100, 190))}
        placements = [p]
    elif kind == "low_contrast":
        p = _one(size, rng, kind, text)
        if index % 2:  # faded print in a normal scene
            placements = [Placement(p.text, p.module_px, p.center, p.angle, fade=float(rng.uniform(0.7, 0.85)))]
        else:  # dim, washed-out picture
            placements = [p]
            effects["contrast"] = float(rng.uniform(0.15, 0.3))
        effects["lighting"] = 0.3
    elif kind == "multi":
        n = 2 + index % 3
        cols = 2 if n <= 2 else 3 if n == 3 else 2
        rows = 1 if n <= 3 else 2
        cw, ch = w / cols, h / rows
        texts = [text] + [ticket_url(rng) for _ in range(n - 1)]
        for i, t in enumerate(texts):
            px = _fit_px(t, float(rng.uniform(3, 6)), 0.75 * min(cw, ch))
            cx = (i % cols + 0.5) * cw + float(rng.uniform(-0.1, 0.1)) * cw
            cy = (i // cols + 0.5) * ch + float(rng.uniform(-0.1, 0.1)) * ch
            placements.append(Placement(t, px, (cx, cy), float(rng.uniform(0, 360)),
                                        (float(rng.uniform(-20, 20)), float(rng.uniform(-20, 20)))))
    elif kind == "combined":
        p = _one(size, rng, kind, text, px=float(rng.uniform(4, 8)), angle=float(rng.uniform(0, 360)),
                 tilt=(float(rng.uniform(-30, 30)), float(rng.uniform(-30, 30))))
        placements = [p]
        effects = {"blur": float(rng.uniform(0.2, 0.4)) * p.module_px, "noise": float(rng.uniform(8, 20)),
                   "contrast": float(rng.uniform(0.4, 0.8)), "lighting": 0.3}
        if index % 2:
            side = _side(text, p.module_px)
            effects["glare"] = {"center": (p.center[0] + 0.3 * side, p.center[1]), "axes": (0.2 * side, 0.12 * side),
                                "angle": float(rng.uniform(0, 180)), "gain": float(rng.uniform(100, 200))}
    elif kind == "hard":
        variant = index % 3
        if variant == 0:  # modules smaller than two pixels
            placements = [_one(size, rng, kind, text, px=float(rng.uniform(1.2, 1.6)))]
        elif variant == 1:  # blurred past one module
            p = _one(size, rng, kind, text)
            placements, effects = [p], {"blur": float(rng.uniform(0.8, 1.0)) * p.module_px, "noise": 20.0}
        else:  # glare washing out the whole code
            p = _one(size, rng, kind, text)
            side = _side(text, p.module_px)
            placements = [p]
            effects["glare"] = {"center": p.center, "axes": (0.7 * side, 0.6 * side), "angle": 0.0, "gain": 400.0}
    elif kind == "damaged":
        placements = [_one(size, rng, kind, text, damaged=True)]
    else:
        raise ValueError(f"unknown frame kind {kind!r}")
    image = render(size, placements, rng, **effects)
    codes = tuple(p.text for p in placements) if kind in READABLE_KINDS else ()
    if kind == "hard":
        codes = tuple(p.text for p in placements)  # drawn, but not expected to be read
    params = {"size": size, "effects": {k: v for k, v in effects.items() if k != "glare"},
              "glare": bool(effects.get("glare")),
              "codes": [{"module_px": round(p.module_px, 2), "angle": round(p.angle, 1),
                         "tilt": tuple(round(t, 1) for t in p.tilt), "damaged": p.damaged} for p in placements]}
    return SimFrame(image, codes, kind, params)


def frame_set(seed: int = 2026, sizes=FRAME_SIZES, counts: dict[str, int] | None = None) -> dict[tuple[int, int], list[SimFrame]]:
    """The generated frame set, per frame size: ``counts`` frames of each kind (default
    :data:`KIND_COUNTS`), deterministic for a ``seed``."""
    counts = KIND_COUNTS if counts is None else counts
    out = {}
    for size in sizes:
        rng = np.random.default_rng([seed, size[0], size[1]])
        out[tuple(size)] = [make_frame(tuple(size), kind, rng, i) for kind, n in counts.items() for i in range(n)]
    return out


def code_in_view(text: str, frames: int, *, size: tuple[int, int] = (640, 480), before: int = 3, after: int = 3,
                 seed: int = 7) -> list[np.ndarray]:
    """A clip: ``before`` empty frames, ``frames`` frames with ``text`` held up (moving a
    little, fresh sensor noise each frame), ``after`` empty frames."""
    rng = np.random.default_rng(seed)
    w, h = size
    clip = [render(size, [], rng, noise=4.0) for _ in range(before)]
    for i in range(frames):
        p = Placement(text, 5.0, (w / 2 + 4 * math.sin(i / 2), h / 2 + 3 * math.cos(i / 3)), 3.0 * math.sin(i / 4))
        clip.append(render(size, [p], rng, noise=4.0))
    clip += [render(size, [], rng, noise=4.0) for _ in range(after)]
    return clip
