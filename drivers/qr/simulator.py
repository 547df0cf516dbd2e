"""Simulated Drive-Thru camera: generated frames with QR codes, video files, a fake camera.

:func:`frame_set` renders a deterministic set of camera-like frames (640×480 and 1280×720)
from a seed: QR codes (segno) printed on a paper card in a cluttered scene, then seen
through a camera: several module sizes, any rotation, perspective tilt, blur, Gaussian
noise, glare, low contrast, several codes per frame, frames with no code, plus "hard"
frames beyond what a camera should be expected to read and "damaged" codes that must not
decode. :func:`write_video` stores frames in a file that ``cv2.VideoCapture`` plays back
(FFV1, lossless, in an .avi; MJPG at quality 100 if FFV1 is unavailable).
:class:`SimulatedCamera` is a :class:`~drivers.qr.sources.FrameSource` playing such a file
or a list of frames, with faults on demand (camera lost).
"""
from __future__ import annotations

import math
from functools import lru_cache
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import segno

from drivers.errors import DeviceUnavailable

from .sources import FrameSource

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


def qr_modules(text: str, error: str = "m") -> np.ndarray:
    """The QR symbol of ``text`` as a bool matrix (True = dark), without quiet zone."""
    return _qr_modules(text, error).copy()


@lru_cache(maxsize=256)
def _qr_modules(text: str, error: str) -> np.ndarray:
    return np.array(segno.make(text, error=error, micro=False).matrix, dtype=bool)


def card_image(modules: np.ndarray, px: int, *, border: int = 4, margin: int = 0,
               ink: int = 25, paper: int = 245) -> np.ndarray:
    """The symbol printed on paper: ``px`` pixels a module, ``border`` quiet-zone modules
    and ``margin`` more modules of paper around, as a grayscale image."""
    pad = border + margin
    img = np.where(np.pad(modules, pad, constant_values=False), ink, paper).astype(np.uint8)
    return cv2.resize(img, None, fx=px, fy=px, interpolation=cv2.INTER_NEAREST)


def damage(modules: np.ndarray, rng: np.random.Generator, fraction: float = 0.45) -> np.ndarray:
    """A copy with ``fraction`` of the data modules flipped (finder patterns kept), far
    beyond what error correction repairs: a code that is seen but must not decode."""
    out = modules.copy()
    n = out.shape[0]
    keep = np.zeros_like(out)
    keep[:9, :9] = keep[:9, n - 8:] = keep[n - 8:, :9] = True
    flip = (rng.random(out.shape) < fraction) & ~keep
    out[flip] = ~out[flip]
    return out


def gaussian_noise(shape: tuple[int, ...], sigma: float, rng: np.random.Generator) -> np.ndarray:
    """Gaussian noise (float32) of ``sigma``, seeded from ``rng`` (opencv's generator: fast)."""
    out = np.empty(shape, np.float32)
    cv2.setRNGSeed(int(rng.integers(0, 2**31 - 1)))
    cv2.randn(out, 0.0, float(sigma))
    return out


def background(size: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """A cluttered scene (BGR): smooth light variation, a few boxes and lines, texture."""
    w, h = size
    grey = rng.uniform(50, 190, (4, 5, 1))
    low = (grey * (1 + rng.uniform(-0.25, 0.25, (4, 5, 3)))).astype(np.float32)
    low = cv2.resize(low, (w // 8, h // 8), interpolation=cv2.INTER_CUBIC)
    img = cv2.resize(low, (w, h), interpolation=cv2.INTER_LINEAR)
    for _ in range(int(rng.integers(3, 9))):
        x0, y0 = int(rng.integers(0, w)), int(rng.integers(0, h))
        x1, y1 = x0 + int(rng.integers(20, w // 3)), y0 + int(rng.integers(20, h // 3))
        color = tuple(float(c) for c in float(rng.uniform(20, 230)) * (1 + rng.uniform(-0.3, 0.3, 3)))
        if rng.random() < 0.5:
            cv2.rectangle(img, (x0, y0), (x1, y1), color, -1)
        else:
            cv2.line(img, (x0, y0), (x1, y1), color, int(rng.integers(1, 6)))
    img += gaussian_noise(img.shape, 4.0, rng)
    return np.clip(img, 0, 255, out=img)


def pose_corners(side: float, center: tuple[float, float], angle_deg: float,
                 tilt_deg: tuple[float, float] = (0.0, 0.0), focal: float = 900.0) -> np.ndarray:
    """Image corners of a square card of ``side`` pixels turned ``angle_deg`` in the image
    plane and tilted ``tilt_deg`` (about x, about y) away from the camera (pinhole model)."""
    s = side / 2
    pts = np.array([[-s, -s, 0], [s, -s, 0], [s, s, 0], [-s, s, 0]], dtype=np.float64)
    a, tx, ty = (math.radians(v) for v in (angle_deg, *tilt_deg))
    rz = np.array([[math.cos(a), -math.sin(a), 0], [math.sin(a), math.cos(a), 0], [0, 0, 1]])
    rx = np.array([[1, 0, 0], [0, math.cos(tx), -math.sin(tx)], [0, math.sin(tx), math.cos(tx)]])
    ry = np.array([[math.cos(ty), 0, math.sin(ty)], [0, 1, 0], [-math.sin(ty), 0, math.cos(ty)]])
    pts = pts @ (ry @ rx @ rz).T
    z = pts[:, 2] + focal
    return np.stack([center[0] + pts[:, 0] * focal / z, center[1] + pts[:, 1] * focal / z], axis=1).astype(np.float32)


def paste(scene: np.ndarray, card: np.ndarray, corners: np.ndarray) -> None:
    """Warp the grayscale ``card`` onto the BGR float ``scene`` at ``corners`` (in place)."""
    h, w = card.shape
    fh, fw = scene.shape[:2]
    x0, y0 = (max(0, int(v) - 2) for v in corners.min(axis=0))
    x1, y1 = min(fw, int(corners[:, 0].max()) + 3), min(fh, int(corners[:, 1].max()) + 3)
    if x0 >= x1 or y0 >= y1:
        return
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float32)
    m = cv2.getPerspectiveTransform(src, corners - np.array([x0, y0], np.float32))
    size = (x1 - x0, y1 - y0)
    warped = cv2.warpPerspective(card.astype(np.float32), m, size, flags=cv2.INTER_LINEAR)
    mask = cv2.warpPerspective(np.ones((h, w), np.float32), m, size, flags=cv2.INTER_LINEAR)
    tint = np.array([1.0, 0.98, 0.95], np.float32)  # warm paper
    roi = scene[y0:y1, x0:x1]
    roi *= (1 - mask)[..., None]
    roi += (warped[..., None] * tint) * mask[..., None]


@dataclass(frozen=True)
class Placement:
    """One code in a frame: its text, pixels per module, centre, rotation, tilt, whether
    it is damaged, and how faded its print is (0 = black ink, 0.8 = ink nearly as light as
    the paper: old thermal paper)."""

    text: str
    module_px: float
    center: tuple[float, float]
    angle: float = 0.0
    tilt: tuple[float, float] = (0.0, 0.0)
    damaged: bool = False
    fade: float = 0.0


def render(size: tuple[int, int], placements: list[Placement], rng: np.random.Generator, *,
           blur: float = 0.0, motion: float = 0.0, noise: float = 0.0, contrast: float = 1.0,
           glare: dict | None = None, lighting: float = 0.0) -> np.ndarray:
    """One camera frame (BGR uint8) of the codes in ``placements`` over a random scene.

    ``blur``: Gaussian sigma (px); ``motion``: motion-blur length (px); ``noise``: Gaussian
    noise sigma (grey levels); ``contrast``: 1 = full, 0.3 = washed out; ``glare``:
    ``{"center", "axes", "angle", "gain"}`` of a bright ellipse; ``lighting``: strength of
    a light fall-off across the frame (0..1).
    """
    w, h = size
    scene = background(size, rng)
    for p in placements:
        modules = qr_modules(p.text)
        if p.damaged:
            modules = damage(modules, rng)
        px = max(2, int(math.ceil(p.module_px)))
        margin = int(rng.integers(1, 4))
        paper, ink = int(rng.integers(215, 250)), int(rng.integers(10, 50))
        ink = int(ink + (paper - ink) * p.fade)
        card = card_image(modules, px, margin=margin, ink=ink, paper=paper)
        side = (modules.shape[0] + 2 * (4 + margin)) * p.module_px
        paste(scene, card, pose_corners(side, p.center, p.angle, p.tilt))
    if lighting:
        gx = np.linspace(-1, 1, w, dtype=np.float32)[None, :] * rng.uniform(-1, 1)
        gy = np.linspace(-1, 1, h, dtype=np.float32)[:, None] * rng.uniform(-1, 1)
        scene *= (1 - lighting * 0.5 * (1 + np.clip(gx + gy, -1, 1)))[..., None]
    scene = cv2.GaussianBlur(scene, (0, 0), 0.6)  # every lens is a little soft
    if blur:
        scene = cv2.GaussianBlur(scene, (0, 0), blur)
    if motion >= 2:
        k = int(round(motion))
        kernel = np.zeros((k, k), np.float32)
        kernel[k // 2, :] = 1.0 / k
        rot = cv2.getRotationMatrix2D((k / 2 - 0.5, k / 2 - 0.5), float(rng.uniform(0, 180)), 1.0)
        kernel = cv2.warpAffine(kernel, rot, (k, k))
        scene = cv2.filter2D(scene, -1, kernel / max(kernel.sum(), 1e-6))
    if contrast != 1.0:
        mid = float(rng.uniform(100, 160))
        scene = mid + (scene - mid) * contrast
    if glare:
        spot = np.zeros((h, w), np.float32)
        cv2.ellipse(spot, (int(glare["center"][0]), int(glare["center"][1])),
                    (int(glare["axes"][0]), int(glare["axes"][1])), glare["angle"], 0, 360, 1.0, -1)
        spot = cv2.GaussianBlur(spot, (0, 0), max(glare["axes"]) / 3)
        scene += (spot * glare["gain"])[..., None]
    if noise:
        scene += gaussian_noise(scene.shape, noise, rng)
    return np.clip(scene, 0, 255).astype(np.uint8)


# -- the frame set -----------------------------------------------------------------------

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


# -- video files -------------------------------------------------------------------------

def write_video(path: str | Path, frames: list[np.ndarray], fps: float = 10.0) -> str:
    """Write BGR frames (all the same size) to ``path``; returns the codec used.

    FFV1 (lossless) when opencv's FFmpeg has it, else MJPG at quality 100. Use an ``.avi``
    or ``.mkv`` name. ``cv2.VideoCapture(path)`` reads the frames back.
    """
    if not frames:
        raise ValueError("no frames to write")
    h, w = frames[0].shape[:2]
    for codec in ("FFV1", "MJPG"):
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*codec), fps, (w, h))
        if not writer.isOpened():
            writer.release()
            continue
        writer.set(cv2.VIDEOWRITER_PROP_QUALITY, 100)
        for frame in frames:
            if frame.shape[:2] != (h, w):
                writer.release()
                raise ValueError(f"frame of {frame.shape[1]}x{frame.shape[0]} in a {w}x{h} video")
            writer.write(frame if frame.ndim == 3 else cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR))
        writer.release()
        return codec
    raise RuntimeError(f"opencv cannot write video to {path} (no FFV1, no MJPG)")


def read_video(path: str | Path) -> list[np.ndarray]:
    """Every frame of a video file, through ``cv2.VideoCapture``."""
    cap = cv2.VideoCapture(str(path))
    frames = []
    try:
        while True:
            ok, frame = cap.read()
            if not ok:
                return frames
            frames.append(frame)
    finally:
        cap.release()


# -- the simulated camera ---------------------------------------------------------------

class _FrameList:
    """The part of the ``cv2.VideoCapture`` surface :class:`FrameSource` uses, over a list."""

    def __init__(self, frames: list[np.ndarray]) -> None:
        self.frames, self.pos = frames, 0

    def isOpened(self) -> bool:  # noqa: N802 - opencv's name
        return True

    def read(self):
        if self.pos >= len(self.frames):
            return False, None
        self.pos += 1
        return True, self.frames[self.pos - 1]

    def set(self, prop: int, value: float) -> bool:
        if prop == cv2.CAP_PROP_POS_FRAMES:
            self.pos = int(value)
        return True

    def release(self) -> None:
        pass


class SimulatedCamera(FrameSource):
    """A camera playing a video file (through ``cv2.VideoCapture``) or a list of frames.

    ``source``: a video path or a list of BGR frames; ``loop``: start again at the end
    (else :class:`~drivers.qr.sources.EndOfStream`). Faults: :meth:`lose` (the camera is
    unplugged: reads and opens fail with DeviceUnavailable until :meth:`restore`),
    ``lose_after=n`` (lost after ``n`` frames).
    """

    def __init__(self, source: str | Path | list[np.ndarray], *, loop: bool = False,
                 lose_after: int | None = None) -> None:
        self._frames = source if isinstance(source, list) else None
        super().__init__("simulated" if self._frames is not None else str(source), loop=loop)
        self.lost = False
        self.lose_after = lose_after

    @property
    def live(self) -> bool:
        return False

    def lose(self) -> None:
        """Unplug the camera: the next read fails, opening fails until :meth:`restore`."""
        self.lost = True

    def restore(self) -> None:
        """Plug it back in (reopen to play on from the start)."""
        self.lost = False

    def _open_capture(self):
        if self.lost:
            raise DeviceUnavailable("kamera tidak ada / camera not found (simulated)")
        return _FrameList(self._frames) if self._frames is not None else super()._open_capture()

    def read(self) -> np.ndarray:
        if self.lose_after is not None and self.frames_read >= self.lose_after:
            self.lost, self.lose_after = True, None
        if self.lost:
            self._lost("kamera terputus / camera lost (simulated)")
            raise DeviceUnavailable(self.detail)
        return super().read()
