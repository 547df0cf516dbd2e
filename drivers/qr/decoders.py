"""QR decoders behind one interface: zxing-cpp (default) and pyzbar (libzbar0).

A decoder takes one camera frame (a numpy BGR, BGRA or grayscale ``uint8`` image, as
``cv2.VideoCapture.read`` returns) and answers every QR code it can read in it. Frames that
are not images (None, empty, wrong shape or type) give ``[]``: a camera hiccup is not an
error. A failure inside the library itself becomes :class:`~drivers.errors.DeviceError`.

Choice of default: see ``drivers/qr/README.md`` and ``bench/qr_decode.py``; on our frame
set zxing-cpp reads more codes, faster.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from drivers.errors import DeviceError

#: Format name of every :class:`Decoded` (both libraries are asked for QR codes only).
QR_FORMAT = "QRCode"


@dataclass(frozen=True)
class Decoded:
    """One code read from a frame.

    ``text``: the payload as text; ``format``: the symbology (``"QRCode"``); ``points``:
    the code's corners in frame pixels (x, y), as the library reports them.
    """

    text: str
    format: str
    points: tuple[tuple[int, int], ...]


class Decoder(ABC):
    """Finds and reads QR codes in camera frames."""

    #: The registry name (``decoder_by_name``).
    name = ""

    @abstractmethod
    def decode(self, frame: np.ndarray) -> list[Decoded]:
        """Every QR code readable in ``frame`` (``[]`` for none or for a malformed frame).

        Raises DeviceError when the decoding library itself fails.
        """


def as_image(frame: object) -> np.ndarray | None:
    """``frame`` as a contiguous ``uint8`` BGR or grayscale array, or None if it is no image."""
    if not isinstance(frame, np.ndarray) or frame.dtype != np.uint8 or frame.size == 0:
        return None
    if frame.ndim == 3 and frame.shape[2] == 1:
        frame = frame[:, :, 0]
    if frame.ndim == 3 and frame.shape[2] == 4:
        frame = cv2.cvtColor(frame, cv2.COLOR_BGRA2BGR)
    if not (frame.ndim == 2 or (frame.ndim == 3 and frame.shape[2] == 3)):
        return None
    if min(frame.shape[:2]) < 21:  # smaller than one version-1 QR code at one pixel per module
        return None
    return np.ascontiguousarray(frame)


def as_gray(image: np.ndarray) -> np.ndarray:
    """A grayscale copy of an image from :func:`as_image` (the array itself if already gray)."""
    return image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)


class ZxingDecoder(Decoder):
    """zxing-cpp's ``read_barcodes``, QR codes only.

    ``try_rotate``: also search 90°/270° turned codes (any angle is found anyway; this helps
    some); ``try_downscale``: also scan downscaled copies (finds big, blurred codes);
    ``try_invert``: also look for light-on-dark codes (a phone screen in dark mode); about
    +1 ms a 1280×720 frame without a code.
    """

    name = "zxing"

    def __init__(self, *, try_rotate: bool = True, try_downscale: bool = True, try_invert: bool = True) -> None:
        try:
            import zxingcpp
        except ImportError as exc:  # pragma: no cover - a pinned dependency
            raise DeviceError("zxing-cpp is not installed (pip install zxing-cpp)") from exc
        self._zx = zxingcpp
        self._options: dict[str, Any] = {"formats": zxingcpp.BarcodeFormat.QRCode, "try_rotate": try_rotate,
                         "try_downscale": try_downscale, "try_invert": try_invert}

    def decode(self, frame: np.ndarray) -> list[Decoded]:
        image = as_image(frame)
        if image is None:
            return []
        try:
            found = self._zx.read_barcodes(as_gray(image), **self._options)
        except Exception as exc:
            raise DeviceError(f"zxing-cpp: {exc}") from exc
        out = []
        for code in found:
            if not code.valid:
                continue
            p = code.position
            corners = (p.top_left, p.top_right, p.bottom_right, p.bottom_left)
            out.append(Decoded(code.text, QR_FORMAT, tuple((int(c.x), int(c.y)) for c in corners)))
        return out


class PyzbarDecoder(Decoder):
    """pyzbar over libzbar0, QR codes only, on a grayscale copy of the frame."""

    name = "pyzbar"

    def __init__(self) -> None:
        try:
            from pyzbar import pyzbar
        except ImportError as exc:  # libzbar0 missing: pyzbar raises ImportError at import
            raise DeviceError("pyzbar needs the zbar library (apt-get install libzbar0)") from exc
        self._zbar = pyzbar
        self._symbols = [pyzbar.ZBarSymbol.QRCODE]

    def decode(self, frame: np.ndarray) -> list[Decoded]:
        image = as_image(frame)
        if image is None:
            return []
        try:
            found = self._zbar.decode(as_gray(image), symbols=self._symbols)
        except Exception as exc:  # PyZbarError and friends
            raise DeviceError(f"pyzbar: {exc}") from exc
        out = []
        for code in found:
            try:
                text = code.data.decode("utf-8")
            except UnicodeDecodeError:
                text = code.data.decode("latin-1")
            out.append(Decoded(text, QR_FORMAT, tuple((int(p.x), int(p.y)) for p in code.polygon)))
        return out


#: Decoder classes by name.
DECODERS: dict[str, type[Decoder]] = {"zxing": ZxingDecoder, "pyzbar": PyzbarDecoder}
#: The default, from bench/qr_decode.py: zxing-cpp reads more of the frame set, ~10x faster.
DEFAULT_DECODER = "zxing"


def decoder_by_name(name: str | None = None, **options) -> Decoder:
    """A new decoder by registry name (``None``: the default, zxing); ``options`` go to its
    constructor. Raises DeviceError for an unknown name or a missing library."""
    name = name or DEFAULT_DECODER
    try:
        cls = DECODERS[name]
    except KeyError:
        raise DeviceError(f"unknown QR decoder {name!r} (choose from {', '.join(DECODERS)})") from None
    return cls(**options)
