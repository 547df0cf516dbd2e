"""QR decode time per frame and decode rate, zxing-cpp against pyzbar, on the generated frame set.

    python bench/qr_decode.py [--seed 2026] [--repeat 3] [--json]

The frame set of ``drivers.qr.simulator.frame_set`` (640×480 and 1280×720: sizes,
rotations, blur, noise, perspective, glare, low contrast, several codes, no code, "hard" and
damaged codes) is written to FFV1 video files and read back through ``cv2.VideoCapture``,
as the tests do. Each decoder then decodes every frame ``--repeat`` times; the time of one
``decode(frame)`` call (BGR frame in, grayscale conversion included) is taken with
``perf_counter`` (wall) and ``thread_time`` (CPU of this thread: less disturbed by other
load on the machine). The decode rate counts the codes read in the frames a working camera
should read (``READABLE_KINDS``), from the first pass. Target: median ≤ 10 ms at 1280×720.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from drivers.qr.decoders import DECODERS, DEFAULT_DECODER, decoder_by_name  # noqa: E402
from drivers.qr.simulator import READABLE_KINDS, frame_set, read_video, write_video  # noqa: E402

TARGET_MEDIAN_MS = 10.0  # at 1280x720, for the default decoder


def measure(decoder, frames, played, repeat: int) -> dict:
    """Times (ms) and rate of one decoder over one frame size."""
    for image in played[:5]:  # warm-up
        decoder.decode(image)
    wall, cpu, wall_empty = [], [], []
    read = total = misread = 0
    for rep in range(repeat):
        for spec, image in zip(frames, played):
            c0, t0 = time.thread_time(), time.perf_counter()
            found = decoder.decode(image)
            t1, c1 = time.perf_counter(), time.thread_time()
            wall.append((t1 - t0) * 1e3)
            cpu.append((c1 - c0) * 1e3)
            if not spec.codes and spec.kind == "empty":
                wall_empty.append((t1 - t0) * 1e3)
            if rep == 0:
                texts = {d.text for d in found}
                misread += len(texts - set(spec.codes))
                if spec.kind in READABLE_KINDS:
                    read += len(texts & set(spec.codes))
                    total += len(spec.codes)
    return {
        "frames": len(frames), "decodes": len(wall),
        "median_ms": float(np.median(wall)), "p99_ms": float(np.percentile(wall, 99)), "max_ms": float(max(wall)),
        "cpu_median_ms": float(np.median(cpu)), "cpu_p99_ms": float(np.percentile(cpu, 99)),
        "empty_median_ms": float(np.median(wall_empty)) if wall_empty else None,
        "codes_read": read, "codes_expected": total, "rate": read / total if total else None, "misread": misread,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=2026, help="frame set seed (default 2026)")
    ap.add_argument("--repeat", type=int, default=3, help="passes over the frame set per decoder (default 3)")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON too")
    args = ap.parse_args()

    load_before = os.getloadavg()[0]
    t = time.perf_counter()
    sets = frame_set(args.seed)
    print(f"qr_decode: frame set (seed {args.seed}) generated in {time.perf_counter() - t:.1f} s; "
          f"{os.cpu_count()} CPUs, load average {load_before:.1f}")
    results = []
    with tempfile.TemporaryDirectory(prefix="loket-qr-bench-") as tmp:
        played_sets = {}
        for size, frames in sets.items():
            path = Path(tmp) / f"frames_{size[0]}x{size[1]}.avi"
            codec = write_video(path, [f.image for f in frames])
            played = read_video(path)
            if len(played) != len(frames):
                print(f"qr_decode: {path.name}: {len(played)} frames read back of {len(frames)}", file=sys.stderr)
                return 1
            played_sets[size] = played
            print(f"qr_decode: {len(frames)} frames {size[0]}x{size[1]} -> {codec} {path.stat().st_size >> 20} MiB "
                  f"-> cv2.VideoCapture: {len(played)} frames")
        for name in DECODERS:
            decoder = decoder_by_name(name)
            for size, frames in sets.items():
                res = measure(decoder, frames, played_sets[size], args.repeat)
                results.append({"decoder": name, "size": f"{size[0]}x{size[1]}", **res})

    print()
    print("| decoder | frame | median ms | p99 ms | max ms | CPU median / p99 ms | median, no code | decode rate |")
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        default = " (default)" if r["decoder"] == DEFAULT_DECODER else ""
        print(f"| {r['decoder']}{default} | {r['size']} | {r['median_ms']:.1f} | {r['p99_ms']:.1f} | {r['max_ms']:.1f} "
              f"| {r['cpu_median_ms']:.1f} / {r['cpu_p99_ms']:.1f} | {r['empty_median_ms']:.1f} "
              f"| {r['codes_read']}/{r['codes_expected']} = {r['rate']:.1%}"
              + (f", {r['misread']} misread" if r["misread"] else "") + " |")
    [hd] = [r for r in results if r["decoder"] == DEFAULT_DECODER and r["size"] == "1280x720"]
    met = hd["median_ms"] <= TARGET_MEDIAN_MS
    print(f"\n{DEFAULT_DECODER} at 1280x720: median {hd['median_ms']:.1f} ms "
          f"(target <= {TARGET_MEDIAN_MS:g} ms: {'MET' if met else 'MISSED'}); "
          f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after")
    if args.json:
        print(json.dumps({"seed": args.seed, "repeat": args.repeat, "load_avg_before": load_before,
                          "results": results}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
