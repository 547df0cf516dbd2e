"""Video files of generated frames: written so that ``cv2.VideoCapture`` plays them back
(FFV1, lossless, in an .avi; MJPG at quality 100 if FFV1 is unavailable), and read back."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np


def write_video(path: str | Path, frames: list[np.ndarray], fps: float = 10.0) -> str:
    """Write BGR frames (all the same size) to ``path``; returns the codec used.

    FFV1 (lossless) when opencv's FFmpeg has it, else MJPG at quality 100. Use an ``.avi``
    or ``.mkv`` name. ``cv2.VideoCapture(path)`` reads the frames back.
    """
    if not frames:
        raise ValueError("no frames to write")
    h, w = frames[0].shape[:2]
    for codec in ("FFV1", "MJPG"):
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*codec), fps, (w, h))
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
    frames: list[np.ndarray] = []
    try:
        while True:
            ok, frame = cap.read()
            if not ok:
                return frames
            frames.append(frame)
    finally:
        cap.release()
