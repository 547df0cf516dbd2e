"""Drawing one camera frame: a QR code (segno) printed on a paper card, posed in a
cluttered scene, and the camera's effects over it (blur, motion, noise, glare, low
contrast, uneven light). Used by :mod:`.frames` to build the frame set and clips.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np
import segno


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
    # scalars are valid cv2 Scalars for mean/stddev (the stubs accept only arrays; an array
    # would give a 3-channel image one channel's sigma)
    cv2.randn(out, 0.0, float(sigma))  # type: ignore[call-overload]
    return out


def background(size: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """A cluttered scene (BGR): smooth light variation, a few boxes and lines, texture."""
    w, h = size
    grey = rng.uniform(50, 190, (4, 5, 1))
    low: np.ndarray = (grey * (1 + rng.uniform(-0.25, 0.25, (4, 5, 3)))).astype(np.float32)
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
        kernel: np.ndarray = np.zeros((k, k), np.float32)
        kernel[k // 2, :] = 1.0 / k
        rot = cv2.getRotationMatrix2D((k / 2 - 0.5, k / 2 - 0.5), float(rng.uniform(0, 180)), 1.0)
        kernel = cv2.warpAffine(kernel, rot, (k, k))
        scene = cv2.filter2D(scene, -1, kernel / max(kernel.sum(), 1e-6))
    if contrast != 1.0:
        mid = float(rng.uniform(100, 160))
        scene = mid + (scene - mid) * contrast
    if glare:
        spot: np.ndarray = np.zeros((h, w), np.float32)
        cv2.ellipse(spot, (int(glare["center"][0]), int(glare["center"][1])),
                    (int(glare["axes"][0]), int(glare["axes"][1])), glare["angle"], 0, 360, 1.0, -1)
        spot = cv2.GaussianBlur(spot, (0, 0), max(glare["axes"]) / 3)
        scene += (spot * glare["gain"])[..., None]
    if noise:
        scene += gaussian_noise(scene.shape, noise, rng)
    return np.clip(scene, 0, 255).astype(np.uint8)
