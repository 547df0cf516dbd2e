"""The images taken at a pickup hand-over (issue 4): the collector's signature and the
optional photo of the collector.

* :func:`signature_png` checks the signature: a ``data:image/png;base64,...`` URL of at most
  ``MAX_SIGNATURE_BYTES`` decoded bytes starting with the PNG signature.
* :func:`collector_photo` checks the photo: a ``data:image/jpeg`` or ``data:image/png``
  base64 URL of at most ``MAX_PHOTO_BYTES`` decoded bytes, recognised by its magic bytes
  (JPEG ``FF D8 FF``, PNG signature; the declared media type is not trusted), at most
  ``MAX_PHOTO_PIXELS`` pixels by its header, and really decodable (``cv2.imdecode``).
* :func:`stage` / :func:`commit_staged` / :func:`discard_staged` write a checked image as a
  hidden temporary file next to its final place, then rename it (after the hand-over
  succeeded) or delete it (when it failed): ``DATA_DIR/<folder>/<application id>.<ext>``.

Errors are :class:`~server.services.errors.ValidationError` with a bilingual message and
``field`` "signature" or "photo".
"""
from __future__ import annotations

import base64
import binascii
import io
import re
import struct
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from ..errors import ValidationError

MAX_SIGNATURE_BYTES = 300_000
#: decoded size limit of the collector's photo (the station page downscales to 1280 px JPEG).
MAX_PHOTO_BYTES = 1_500_000
#: header-declared width × height limit, so that a small file cannot claim a huge bitmap.
MAX_PHOTO_PIXELS = 40_000_000
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JPEG_MAGIC = b"\xff\xd8\xff"
_PNG_URL = re.compile(r"data:image/png;base64,([A-Za-z0-9+/=\s]+)")
_IMAGE_URL = re.compile(r"data:image/(?:jpeg|jpg|png);base64,([A-Za-z0-9+/=\s]+)", re.IGNORECASE)
#: JPEG start-of-frame markers (baseline, progressive, …), which hold the image size.
_SOF = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})


def _b64(data: str) -> bytes:
    return base64.b64decode(re.sub(r"\s+", "", data), validate=True)


def signature_png(data_url: str) -> bytes:
    """The PNG bytes of a signature data URL. Raises ValidationError (field "signature")
    when missing, not a PNG data URL, damaged base64, or larger than MAX_SIGNATURE_BYTES."""
    if not isinstance(data_url, str) or len(data_url) > MAX_SIGNATURE_BYTES * 4 // 3 + 64:
        raise ValidationError(key="error.application.signature_too_large", field="signature")
    match = _PNG_URL.fullmatch(data_url.strip())
    if not match:
        raise ValidationError(key="error.application.signature_required", field="signature")
    try:
        raw = _b64(match[1])
    except (binascii.Error, ValueError):
        raise ValidationError(key="error.application.signature_damaged", field="signature") from None
    if not raw.startswith(PNG_MAGIC) or len(raw) > MAX_SIGNATURE_BYTES:
        raise ValidationError(key="error.application.signature_not_png", field="signature")
    return raw


def _damaged() -> ValidationError:
    return ValidationError(key="error.application.photo_damaged", field="photo")


def _jpeg_size(raw: bytes) -> tuple[int, int] | None:
    """(width, height) from the first JPEG start-of-frame segment, None if none is found."""
    i = 2
    while i + 4 <= len(raw):
        if raw[i] != 0xFF:
            return None
        marker = raw[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in (0x01, *range(0xD0, 0xD8)):  # markers without a length
            i += 2
            continue
        (length,) = struct.unpack(">H", raw[i + 2:i + 4])
        if marker in _SOF and i + 9 <= len(raw):
            height, width = struct.unpack(">HH", raw[i + 5:i + 9])
            return width, height
        i += 2 + length
    return None


def _image_size(raw: bytes, kind: str) -> tuple[int, int] | None:
    if kind == "png":
        if len(raw) < 24 or raw[12:16] != b"IHDR":
            return None
        return struct.unpack(">II", raw[16:24])
    return _jpeg_size(raw)


def collector_photo(data_url: str) -> tuple[bytes, str]:
    """(bytes, extension "jpg" | "png") of the collector's photo data URL. Raises
    ValidationError (field "photo"): larger than MAX_PHOTO_BYTES decoded; not a JPEG/PNG
    data URL or bytes that are neither JPEG nor PNG; damaged (bad base64, unreadable
    header, more than MAX_PHOTO_PIXELS pixels, or not decodable: :func:`_decodable`)."""
    if not isinstance(data_url, str):
        raise ValidationError(key="error.application.photo_not_image", field="photo")
    if len(data_url) > MAX_PHOTO_BYTES * 4 // 3 + 256:
        raise ValidationError(key="error.application.photo_too_large", field="photo")
    match = _IMAGE_URL.fullmatch(data_url.strip())
    if not match:
        raise ValidationError(key="error.application.photo_not_image", field="photo")
    try:
        raw = _b64(match[1])
    except (binascii.Error, ValueError):
        raise _damaged() from None
    if len(raw) > MAX_PHOTO_BYTES:
        raise ValidationError(key="error.application.photo_too_large", field="photo")
    if raw.startswith(JPEG_MAGIC):
        kind = "jpg"
    elif raw.startswith(PNG_MAGIC):
        kind = "png"
    else:
        raise ValidationError(key="error.application.photo_not_image", field="photo")
    size = _image_size(raw, kind)
    if size is None or not 0 < size[0] * size[1] <= MAX_PHOTO_PIXELS:
        raise _damaged()
    if not _decodable(raw):
        raise _damaged()
    return raw, kind


def _decodable(raw: bytes) -> bool:
    """Whether Pillow decodes the whole image: a PNG's chunks and their checksums are
    verified first (``Image.verify``), then the image is decoded; a JPEG is decoded at a
    quarter of its size in greyscale (``draft``), which still reads every scan. A
    truncated or damaged file raises and is refused. (Pillow, not OpenCV, so that the
    server's install needs no OpenCV: issue 14.)"""
    try:
        with Image.open(io.BytesIO(raw)) as image:
            if image.format == "PNG":
                image.verify()
        with Image.open(io.BytesIO(raw)) as image:
            if image.format == "JPEG":
                image.draft("L", (max(1, image.width // 4), max(1, image.height // 4)))
            image.load()
    except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError):
        return False
    return image.width > 0 and image.height > 0


@dataclass(frozen=True)
class Staged:
    """An image written to ``tmp``, to be renamed to ``path``; ``relative`` is what the
    collector dict keeps (relative to DATA_DIR, e.g. ``photos/12.jpg``)."""

    tmp: Path
    path: Path
    relative: str


def stage(data_dir: Path, folder: str, app_id: int, ext: str, raw: bytes) -> Staged:
    """Write ``raw`` to ``DATA_DIR/<folder>/.<app_id>.<ext>.tmp`` (folder created)."""
    where = Path(data_dir) / folder
    where.mkdir(parents=True, exist_ok=True)
    staged = Staged(where / f".{app_id}.{ext}.tmp", where / f"{app_id}.{ext}", f"{folder}/{app_id}.{ext}")
    staged.tmp.write_bytes(raw)
    return staged


def discard_staged(*staged: Staged | None) -> None:
    """Delete the temporary files (the hand-over failed)."""
    for s in staged:
        if s is not None:
            s.tmp.unlink(missing_ok=True)


def commit_staged(*staged: Staged | None) -> None:
    """Rename the temporary files to their final names (the hand-over succeeded)."""
    for s in staged:
        if s is not None:
            s.tmp.replace(s.path)
