"""Indonesian call words and phrases, and WAV synthesis (needs espeak-ng and sox installed)."""
from __future__ import annotations

import array
import math
import sys
import wave
from pathlib import Path

import pytest

from server.services.voice import (
    RATE, VoiceSynth, VoiceUnavailable, available, call_phrase, number_to_words, tokens,
)

WORDS = {
    0: "nol", 1: "satu", 10: "sepuluh", 11: "sebelas", 12: "dua belas", 19: "sembilan belas",
    20: "dua puluh", 21: "dua puluh satu", 99: "sembilan puluh sembilan", 100: "seratus",
    101: "seratus satu", 111: "seratus sebelas", 200: "dua ratus",
    999: "sembilan ratus sembilan puluh sembilan", 1000: "seribu", 1001: "seribu satu",
    2345: "dua ribu tiga ratus empat puluh lima",
}


@pytest.mark.parametrize("n,words", sorted(WORDS.items()))
def test_number_words(n, words):
    assert number_to_words(n) == words


@pytest.mark.parametrize("bad", [-1, 10000, 1.5, "3", True])
def test_number_words_rejects_out_of_range(bad):
    with pytest.raises(ValueError):
        number_to_words(bad)


def test_call_phrase():
    assert call_phrase("A012", 3) == "Nomor antrian, A, dua belas, silakan menuju loket, tiga"
    assert call_phrase("AB0100", 12) == "Nomor antrian, A, B, seratus, silakan menuju loket, dua belas"
    assert call_phrase("B000", 1) == "Nomor antrian, B, nol, silakan menuju loket, satu"
    assert call_phrase("A1", 3, "Loket 3") == "Nomor antrian, A, satu, silakan menuju loket, tiga"
    assert call_phrase("A1", 3, "Drive Thru 2").endswith("loket, tiga, Drive Thru dua")
    for bad in ("ABC1", "A", "A12345", "1-2", ""):
        with pytest.raises(ValueError):
            call_phrase(bad, 1)


def test_tokens():
    assert tokens("A012", 3) == ["chime", "nomor_antrian", "a", "dua", "belas", "silakan_menuju_loket", "tiga"]
    assert tokens("KB1011", 21) == ["chime", "nomor_antrian", "k", "b", "seribu", "sebelas",
                                    "silakan_menuju_loket", "dua", "puluh", "satu"]


# -- WAV helpers --------------------------------------------------------------------------
def read_wav(path: Path) -> tuple[wave._wave_params, array.array]:
    with wave.open(str(path), "rb") as w:
        params, frames = w.getparams(), w.readframes(w.getnframes())
    samples = array.array("h", frames)
    if sys.byteorder == "big":
        samples.byteswap()
    return params, samples


def rms(samples) -> float:
    return math.sqrt(sum(s * s for s in samples) / max(1, len(samples)))


def write_tone(path: Path, freq: float, seconds: float = 0.3, rate: int = RATE, channels: int = 1) -> None:
    frames = array.array("h")
    for i in range(int(rate * seconds)):
        v = int(8000 * math.sin(2 * math.pi * freq * i / rate))
        frames.extend([v] * channels)
    if sys.byteorder == "big":
        frames.byteswap()
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(frames.tobytes())


def assert_format(params) -> None:
    assert (params.nchannels, params.sampwidth, params.framerate) == (1, 2, 22050)


# -- synthesis with espeak-ng -------------------------------------------------------------
def test_espeak_is_installed():
    assert available(), "espeak-ng must be installed (apt-get install espeak-ng sox)"


def test_espeak_call_wav_and_cache(tmp_path):
    synth = VoiceSynth(tmp_path / "cache")
    path = synth.call_wav("A012", 3)
    params, samples = read_wav(path)
    assert_format(params)
    assert params.nframes / params.framerate > 2.0
    speech = samples[int(RATE * 1.3):]  # after the 0.9 s chime and the pause
    assert rms(speech) > 300, "speech is (nearly) silent"
    assert rms(samples[: int(RATE * 0.9)]) > 1000, "chime is (nearly) silent"

    mtime = path.stat().st_mtime_ns
    assert synth.call_wav("A012", 3) == path
    assert path.stat().st_mtime_ns == mtime
    assert synth.call_wav("A012", 4) != path
    assert VoiceSynth(tmp_path / "cache", speed_wpm=120).call_wav("A012", 3) != path
    assert not list((tmp_path / "cache").glob(".tmp-*")), "temporary files left behind"


def test_espeak_without_sox_uses_python_path(tmp_path):
    path = VoiceSynth(tmp_path, sox_bin=None).call_wav("B7", 1)
    params, samples = read_wav(path)
    assert_format(params)
    assert rms(samples[int(RATE * 1.3):]) > 300


# -- recorded clips -----------------------------------------------------------------------
def make_clips(clips: Path, names, **kw) -> None:
    clips.mkdir(parents=True, exist_ok=True)
    for i, name in enumerate(names):
        write_tone(clips / f"{name}.wav", 300 + 40 * i, **kw)


def test_clips_concatenated(tmp_path):
    names = tokens("A012", 3)[1:]
    make_clips(tmp_path / "clips", names)
    synth = VoiceSynth(tmp_path / "cache", tmp_path / "clips", espeak_bin="/nonexistent")
    path = synth.call_wav("A012", 3)
    params, samples = read_wav(path)
    assert_format(params)
    # chime 0.9 + pause 0.35 + 6 clips of 0.3 + 4 gaps of 0.25 + tail 0.2
    assert abs(params.nframes / RATE - (0.9 + 0.35 + 1.8 + 1.0 + 0.2)) < 0.02
    start = int(RATE * 1.25)
    assert rms(samples[start:start + int(RATE * 0.3)]) > 4000  # the first clip, a tone

    mtime = path.stat().st_mtime_ns
    assert synth.call_wav("A012", 3) == path and path.stat().st_mtime_ns == mtime
    write_tone(tmp_path / "clips" / "tiga.wav", 900, seconds=0.5)  # a re-recorded clip
    assert synth.call_wav("A012", 3) != path


@pytest.mark.parametrize("sox_bin", ["sox", None])
def test_clips_other_formats_are_converted(tmp_path, sox_bin):
    names = tokens("A1", 2)[1:]
    make_clips(tmp_path / "clips", names)
    write_tone(tmp_path / "clips" / "satu.wav", 440, seconds=0.3, rate=44100, channels=2)
    synth = VoiceSynth(tmp_path / "cache", tmp_path / "clips", espeak_bin="/nonexistent", sox_bin=sox_bin)
    params, _ = read_wav(synth.call_wav("A1", 2))
    assert_format(params)
    assert abs(params.nframes / RATE - (0.9 + 0.35 + 1.5 + 1.0 + 0.2)) < 0.02


def test_office_chime_clip_is_used(tmp_path):
    make_clips(tmp_path / "clips", tokens("A1", 2))
    write_tone(tmp_path / "clips" / "chime.wav", 1000, seconds=0.5)
    params, _ = read_wav(VoiceSynth(tmp_path, tmp_path / "clips", espeak_bin="/x").call_wav("A1", 2))
    assert abs(params.nframes / RATE - (0.5 + 0.35 + 1.5 + 1.0 + 0.2)) < 0.02


def test_unreadable_clip_is_named(tmp_path):
    make_clips(tmp_path / "clips", tokens("A1", 2)[1:])
    (tmp_path / "clips" / "dua.wav").write_bytes(b"not a wav file at all")
    synth = VoiceSynth(tmp_path / "cache", tmp_path / "clips", espeak_bin="/nonexistent", sox_bin=None)
    with pytest.raises(VoiceUnavailable, match="dua.wav"):
        synth.call_wav("A1", 2)


def test_incomplete_clips_fall_back_to_espeak(tmp_path):
    make_clips(tmp_path / "clips", ["nomor_antrian", "a"])
    params, _ = read_wav(VoiceSynth(tmp_path / "cache", tmp_path / "clips").call_wav("A1", 2))
    assert_format(params)
    assert params.nframes / RATE > 2.0


# -- no voice at all ----------------------------------------------------------------------
def test_missing_espeak_and_no_clips(tmp_path):
    synth = VoiceSynth(tmp_path / "cache", espeak_bin="/nonexistent")
    assert not synth.available()
    with pytest.raises(VoiceUnavailable, match="espeak-ng not found"):
        synth.call_wav("A012", 3)
    assert not list(tmp_path.rglob("*.wav"))


def test_missing_espeak_names_missing_clips(tmp_path):
    make_clips(tmp_path / "clips", ["nomor_antrian", "a"])
    synth = VoiceSynth(tmp_path / "cache", tmp_path / "clips", espeak_bin="/nonexistent")
    with pytest.raises(VoiceUnavailable, match="silakan_menuju_loket"):
        synth.call_wav("A012", 3)


def test_construction_does_no_work(tmp_path):
    VoiceSynth(tmp_path / "never", tmp_path / "nope", espeak_bin="/nonexistent")
    assert not (tmp_path / "never").exists()
