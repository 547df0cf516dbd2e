"""The spoken queue call of the waiting-room TV, in Indonesian.

``call_phrase("A012", 3)`` is "Nomor antrian, A, dua belas, silakan menuju loket, tiga".
``VoiceSynth.call_wav`` renders it as a cached WAV (22050 Hz, mono, 16-bit): a ding-dong
chime, a pause, then the speech, either concatenated from office-recorded clips
(``<clips_dir>/<token>.wav``, see ``tokens``) or synthesised by espeak-ng. Formats are
converted with ``sox`` when it is installed and in pure Python otherwise.
"""
from __future__ import annotations

import array
import hashlib
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import wave
from pathlib import Path

RATE = 22050  #: output sample rate, Hz
CHIME_SECONDS = 0.9
PAUSE_SECONDS = 0.35  #: silence between the chime and the speech
GAP_SECONDS = 0.25  #: silence between phrase parts when concatenating clips
TAIL_SECONDS = 0.2
CACHE_VERSION = 1  #: bump when the rendering changes so old cache files are not reused

UNITS = ("nol", "satu", "dua", "tiga", "empat", "lima", "enam", "tujuh", "delapan", "sembilan")
_NUMBER_RE = re.compile(r"^([A-Za-z]{0,2})(\d{1,4})$")
#: Every clip name ``tokens`` can produce; "chime" is optional (generated when absent).
CLIP_NAMES = frozenset(
    {"chime", "nomor_antrian", "silakan_menuju_loket", "sepuluh", "sebelas", "belas", "puluh",
     "seratus", "ratus", "seribu", "ribu", *UNITS, *"abcdefghijklmnopqrstuvwxyz"}
)


class VoiceUnavailable(Exception):
    """No call audio can be produced (espeak-ng missing or failing, unusable clip)."""


def number_to_words(n: int) -> str:
    """Indonesian words for an integer 0..9999; raises ValueError outside that range.

    >>> number_to_words(0), number_to_words(11), number_to_words(12)
    ('nol', 'sebelas', 'dua belas')
    >>> number_to_words(21), number_to_words(111)
    ('dua puluh satu', 'seratus sebelas')
    >>> number_to_words(1000), number_to_words(2345)
    ('seribu', 'dua ribu tiga ratus empat puluh lima')
    """
    if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n <= 9999:
        raise ValueError(f"number_to_words takes an integer 0..9999, not {n!r}")
    if n == 0:
        return "nol"
    words: list[str] = []
    thousands, rest = divmod(n, 1000)
    hundreds, rest = divmod(rest, 100)
    for count, one, many in ((thousands, "seribu", "ribu"), (hundreds, "seratus", "ratus")):
        if count == 1:
            words.append(one)
        elif count:
            words += [UNITS[count], many]
    if rest >= 20:
        tens, unit = divmod(rest, 10)
        words += [UNITS[tens], "puluh"] + ([UNITS[unit]] if unit else [])
    elif rest >= 12:
        words += [UNITS[rest - 10], "belas"]
    elif rest == 11:
        words.append("sebelas")
    elif rest == 10:
        words.append("sepuluh")
    elif rest:
        words.append(UNITS[rest])
    return " ".join(words)


def _split_number(display_number: str) -> tuple[str, int]:
    m = _NUMBER_RE.match(str(display_number).strip())
    if not m:
        raise ValueError(f"not a queue number (0-2 letters then 1-4 digits): {display_number!r}")
    return m.group(1).upper(), int(m.group(2))


def _groups(display_number: str, counter_number: int) -> list[list[str]]:
    """The call as phrase parts, each a list of words (clip names)."""
    letters, number = _split_number(display_number)
    return [["nomor_antrian"], *([c.lower()] for c in letters), number_to_words(number).split(),
            ["silakan_menuju_loket"], number_to_words(counter_number).split()]


def _speak_label(label: str) -> str:
    label = re.sub(r"[^\w .'/-]", " ", label)[:60]
    label = re.sub(r"\d{1,4}", lambda m: f" {number_to_words(int(m.group()))} ", label)
    return " ".join(label.split())


def call_phrase(display_number: str, counter_number: int, counter_label: str | None = None) -> str:
    """The sentence to speak for a call, with commas where the speaker pauses.

    ``display_number`` is 0-2 letters then 1-4 digits ("A012"; leading zeros are dropped,
    letters spelt one by one); ``counter_number`` is 0..9999. ``counter_label`` (the
    counter's name, e.g. "Drive Thru") is appended unless empty or just "Loket <n>".
    Raises ValueError for a malformed number.

    >>> call_phrase("A012", 3)
    'Nomor antrian, A, dua belas, silakan menuju loket, tiga'
    >>> call_phrase("AB7", 2, "Drive Thru")
    'Nomor antrian, A, B, tujuh, silakan menuju loket, dua, Drive Thru'
    """
    letters, number = _split_number(display_number)
    parts = ["Nomor antrian", *letters, number_to_words(number), "silakan menuju loket",
             number_to_words(counter_number)]
    label = " ".join((counter_label or "").split())
    if label and label.lower() != f"loket {counter_number}":
        parts.append(_speak_label(label))
    return ", ".join(p for p in parts if p)


def tokens(display_number: str, counter_number: int) -> list[str]:
    """The call as clip names, starting with "chime"; raises ValueError like ``call_phrase``.

    >>> tokens("A012", 3)
    ['chime', 'nomor_antrian', 'a', 'dua', 'belas', 'silakan_menuju_loket', 'tiga']
    """
    return ["chime"] + [t for group in _groups(display_number, counter_number) for t in group]


def available(espeak_bin: str = "espeak-ng") -> bool:
    """True when the espeak-ng executable ``espeak_bin`` can be found (PATH or a path)."""
    return shutil.which(espeak_bin) is not None


def chime_frames(rate: int = RATE, seconds: float = CHIME_SECONDS) -> bytes:
    """A two-tone ding-dong (E5 then C5, decaying) as mono 16-bit frames at ``rate`` Hz."""
    out = array.array("h")
    half = int(rate * seconds / 2)
    for freq in (659.25, 523.25):
        for i in range(half):
            t = i / rate
            env = math.exp(-4.0 * t) * min(1.0, i / (0.005 * rate))
            s = math.sin(2 * math.pi * freq * t) + 0.3 * math.sin(4 * math.pi * freq * t)
            out.append(int(14000 * env * s))
    return _to_le(out)


def _to_le(samples: array.array) -> bytes:
    if sys.byteorder == "big":
        samples = array.array("h", samples)
        samples.byteswap()
    return samples.tobytes()


def _silence(seconds: float) -> bytes:
    return bytes(2 * int(RATE * seconds))


def _convert_py(params: wave._wave_params, frames: bytes) -> bytes:
    """PCM frames of any width/channels/rate to mono 16-bit at RATE (linear interpolation)."""
    width, channels, rate = params.sampwidth, params.nchannels, params.framerate
    if width not in (1, 2, 3, 4):
        raise ValueError(f"unsupported sample width {width}")
    raw = []
    for i in range(0, len(frames) - width + 1, width):
        if width == 1:
            raw.append((frames[i] - 128) << 8)
        else:
            raw.append(int.from_bytes(frames[i:i + width], "little", signed=True) >> (8 * (width - 2)))
    mono = [sum(raw[i:i + channels]) / channels for i in range(0, len(raw) - channels + 1, channels)]
    if rate != RATE and mono:
        step, n_out = rate / RATE, int(len(mono) * RATE / rate)
        res = []
        for j in range(n_out):
            x = j * step
            k = int(x)
            b = mono[min(k + 1, len(mono) - 1)]
            res.append(mono[k] + (b - mono[k]) * (x - k))
        mono = res
    return _to_le(array.array("h", (max(-32768, min(32767, round(v))) for v in mono)))


class VoiceSynth:
    """Renders queue calls to cached WAV files; constructing one does no work.

    ``cache_dir``: where WAVs are kept (created on first use). ``clips_dir``: optional
    folder of office-recorded clips ``<token>.wav``; used when it holds every token of a
    call. ``espeak_bin``/``voice``/``speed_wpm``: espeak-ng command, voice and words per
    minute. ``sox_bin``: used for format conversion when found (else pure Python).
    ``timeout``: seconds allowed to each subprocess.
    """

    def __init__(self, cache_dir: Path, clips_dir: Path | None = None, espeak_bin: str = "espeak-ng",
                 voice: str = "id", speed_wpm: int = 140, *, sox_bin: str | None = "sox",
                 timeout: float = 20.0) -> None:
        self.cache_dir = Path(cache_dir)
        self.clips_dir = Path(clips_dir) if clips_dir is not None else None
        self.espeak_bin, self.voice, self.speed_wpm = espeak_bin, voice, int(speed_wpm)
        self.sox_bin, self.timeout = sox_bin, timeout

    def with_clips(self, clips_dir: Path | None) -> VoiceSynth:
        """A copy of this synth (same cache and settings) using ``clips_dir``."""
        return VoiceSynth(self.cache_dir, clips_dir, self.espeak_bin, self.voice, self.speed_wpm,
                          sox_bin=self.sox_bin, timeout=self.timeout)

    def available(self) -> bool:
        """True when espeak-ng is found or the clips folder holds every clip (chime optional)."""
        return available(self.espeak_bin) or not self.missing_clips(CLIP_NAMES - {"chime"})

    def missing_clips(self, names) -> list[str]:
        """The names among ``names`` with no ``<name>.wav`` in clips_dir (all when unset)."""
        d = self.clips_dir
        return sorted(n for n in set(names) if d is None or not (d / f"{n}.wav").is_file())

    def call_wav(self, display_number: str, counter_number: int) -> Path:
        """Path of the WAV (22050 Hz, mono, 16-bit) calling ``display_number`` to counter
        ``counter_number``: chime, pause, speech. Built once per phrase and settings, then
        served from the cache. Raises ValueError for a malformed number and
        VoiceUnavailable when no speech can be produced."""
        groups = _groups(display_number, counter_number)
        words = [t for g in groups for t in g]
        use_clips = self.clips_dir is not None and not self.missing_clips(words)
        key: dict = {"v": CACHE_VERSION, "rate": RATE, "chime": self._clip_signature("chime")}
        if use_clips:
            key["clips"] = [self._clip_signature(n) for n in words]
        else:
            key.update(phrase=call_phrase(display_number, counter_number), voice=self.voice,
                       speed=self.speed_wpm, espeak=self.espeak_bin)
        digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:24]
        letters, number = _split_number(display_number)
        path = self.cache_dir / f"{letters}{number}-{counter_number}-{digest}.wav"
        if path.is_file():
            return path
        if use_clips:
            speech = _silence(GAP_SECONDS).join(b"".join(self._clip(n) for n in g) for g in groups)
        else:
            speech = self._espeak(call_phrase(display_number, counter_number), words)
        chime = self._clip("chime") if self._has_clip("chime") else chime_frames()
        self._write(path, chime + _silence(PAUSE_SECONDS) + speech + _silence(TAIL_SECONDS))
        return path

    # -- internals ----------------------------------------------------------------------
    def _has_clip(self, name: str) -> bool:
        return self.clips_dir is not None and (self.clips_dir / f"{name}.wav").is_file()

    def _clip_signature(self, name: str) -> list:
        if self.clips_dir is None or not self._has_clip(name):
            return [name]
        st = (self.clips_dir / f"{name}.wav").stat()
        return [name, st.st_size, st.st_mtime_ns]

    def _clip(self, name: str) -> bytes:
        if self.clips_dir is None:  # callers check _has_clip / missing_clips first
            raise VoiceUnavailable(f"voice clip {name}: no voice clips are configured")
        path = self.clips_dir / f"{name}.wav"
        try:
            return self._read_pcm(path)
        except (wave.Error, EOFError, ValueError, OSError) as exc:
            raise VoiceUnavailable(f"voice clip {path} is not a usable WAV file: {exc}") from exc

    def _read_pcm(self, path: Path) -> bytes:
        """Frames of ``path`` as mono 16-bit at RATE, converting when needed."""
        params: wave._wave_params | None = None
        frames = b""
        try:
            with wave.open(str(path), "rb") as w:
                params, frames = w.getparams(), w.readframes(w.getnframes())
        except (wave.Error, EOFError):
            if not self._sox():  # e.g. float or compressed WAV: only sox reads those
                raise
        if params and (params.nchannels, params.sampwidth, params.framerate) == (1, 2, RATE):
            return frames
        sox = self._sox()
        if sox:
            with tempfile.TemporaryDirectory(prefix="loket-voice-") as tmp:
                out = Path(tmp) / "converted.wav"
                self._run([sox, "-V1", str(path), "-r", str(RATE), "-c", "1", "-b", "16",
                           "-e", "signed-integer", str(out)], f"sox converting {path}")
                with wave.open(str(out), "rb") as w:
                    return w.readframes(w.getnframes())
        assert params is not None  # without sox, a WAV that wave cannot read raised above
        return _convert_py(params, frames)

    def _sox(self) -> str | None:
        return shutil.which(self.sox_bin) if self.sox_bin else None

    def _espeak(self, phrase: str, words: list[str]) -> bytes:
        exe = shutil.which(self.espeak_bin)
        if exe is None:
            hint = (f"; clips missing in {self.clips_dir}: {', '.join(self.missing_clips(words))}"
                    if self.clips_dir is not None else " and no voice clips are configured")
            raise VoiceUnavailable(f"espeak-ng not found ({self.espeak_bin!r}){hint}")
        with tempfile.TemporaryDirectory(prefix="loket-voice-") as tmp:
            out = Path(tmp) / "speech.wav"
            self._run([exe, "-v", self.voice, "-s", str(self.speed_wpm), "-w", str(out), phrase],
                      "espeak-ng")
            try:
                return self._read_pcm(out)
            except (wave.Error, EOFError, ValueError) as exc:
                raise VoiceUnavailable(f"espeak-ng wrote an unreadable WAV: {exc}") from exc

    def _run(self, cmd: list[str], what: str) -> None:
        try:
            proc = subprocess.run(cmd, capture_output=True, timeout=self.timeout, check=False)
        except subprocess.TimeoutExpired as exc:
            raise VoiceUnavailable(f"{what} took longer than {self.timeout} s") from exc
        except OSError as exc:
            raise VoiceUnavailable(f"{what} could not run: {exc}") from exc
        if proc.returncode != 0:
            err = proc.stderr.decode(errors="replace").strip()[:300]
            raise VoiceUnavailable(f"{what} failed (exit {proc.returncode}): {err}")

    def _write(self, path: Path, frames: bytes) -> None:
        """Write ``frames`` to ``path`` atomically (temp file in the same folder, then rename)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".wav")
        os.close(fd)
        try:
            os.chmod(tmp, 0o644)
            with wave.open(tmp, "wb") as w:
                w.setnchannels(1)
                w.setsampwidth(2)
                w.setframerate(RATE)
                w.writeframes(frames)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
