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

The frames are generated in :mod:`.frames` (drawn by :mod:`.scene`) and stored by
:mod:`.video`; their names are importable from here as well.
"""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from drivers.errors import DeviceUnavailable

from .frames import FRAME_SIZES, KIND_COUNTS, READABLE_KINDS, SimFrame, code_in_view, frame_set, make_frame, ticket_url
from .scene import Placement, background, card_image, damage, gaussian_noise, paste, pose_corners, qr_modules, render
from .sources import FrameSource
from .video import read_video, write_video

__all__ = [
    "FRAME_SIZES", "KIND_COUNTS", "Placement", "READABLE_KINDS", "SimFrame", "SimulatedCamera", "background",
    "card_image", "code_in_view", "damage", "frame_set", "gaussian_noise", "make_frame", "paste", "pose_corners",
    "qr_modules", "read_video", "render", "ticket_url", "write_video",
]


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
