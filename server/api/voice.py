"""The spoken queue call as a WAV file, for the waiting-room TV (``server.services.voice``)."""
from __future__ import annotations

import re
from pathlib import Path

from flask import Blueprint, current_app, jsonify, request, send_file
from sqlalchemy import select

from server.services.voice import VoiceSynth, VoiceUnavailable
from server.models import Office
from server.security import office_allowed, require

NUMBER_RE = re.compile(r"^[A-Z]{1,2}\d{1,4}$")
_SAFE_CODE = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9_.-]*$")
#: Seconds a browser may reuse a call WAV without asking again.
MAX_AGE = 86400


def _error(status: int, code: str, message: str):
    return jsonify(error=code, message=message), status


def voice_synth(office_code: str) -> VoiceSynth:
    """The app's VoiceSynth (created on first use in ``extensions["loket_voice"]``, cache
    in ``DATA_DIR/voice-cache``), using ``DATA_DIR/voice-clips/<office_code>`` when that
    folder exists."""
    data_dir = Path(current_app.config["DATA_DIR"])
    synth = current_app.extensions.get("loket_voice")
    if synth is None:
        synth = current_app.extensions.setdefault("loket_voice", VoiceSynth(data_dir / "voice-cache"))
    clips = data_dir / "voice-clips" / office_code
    if _SAFE_CODE.match(office_code) and clips.is_dir():
        return synth.with_clips(clips)
    return synth


@require(roles=(), devices=("display",))
def call_wav(code: str):
    """The spoken call "Nomor antrian, A, dua belas, silakan menuju loket, tiga" as a WAV.
    The office's display devices (``?token=`` or Bearer) and its signed-in staff may fetch it.
    ---
    get:
      tags: [display]
      summary: Spoken queue call (WAV, 22050 Hz mono 16-bit)
      parameters:
        - {name: code, in: path, required: true, schema: {type: string}, description: office code}
        - {name: number, in: query, required: true, schema: {type: string, pattern: '^[A-Z]{1,2}\\d{1,4}$'}, example: A012, description: ticket display number}
        - {name: counter, in: query, required: true, schema: {type: integer, minimum: 1, maximum: 999}, example: 3, description: counter (loket) number}
        - {name: token, in: query, required: false, schema: {type: string}, description: display device token (or Authorization Bearer)}
      responses:
        200:
          description: chime, pause, then the Indonesian call; cacheable for a day
          content:
            audio/wav:
              schema: {type: string, format: binary}
        401: {description: not authenticated}
        403: {description: 'not a display device, or a display or staff of another office'}
        404: {description: 'unknown office: {"error": "not_found", "message": str}'}
        422: {description: 'bad number or counter: {"error": "validation_error", "message": str}'}
        503: {description: 'no voice available (espeak-ng missing, bad clip): {"error": "voice_unavailable", "message": str}'}
    """
    with current_app.extensions["loket"].db.session() as s:
        office_id = s.scalar(select(Office.id).where(Office.code == code))
    if office_id is None:
        return _error(404, "not_found", f"unknown office {code!r}")
    if not office_allowed(office_id):  # the office scope rule, for displays and staff alike
        return _error(403, "forbidden", "this office's calls are for its own displays and staff")
    number = (request.args.get("number") or "").strip()
    if not NUMBER_RE.match(number):
        return _error(422, "validation_error", "number must be 1-2 capital letters then 1-4 digits, e.g. A012")
    try:
        counter = int(request.args.get("counter", ""))
    except ValueError:
        counter = 0
    if not 1 <= counter <= 999:
        return _error(422, "validation_error", "counter must be an integer 1..999")
    try:
        path = voice_synth(code).call_wav(number, counter)
    except VoiceUnavailable as exc:
        current_app.logger.warning("voice call %s/%s: %s", number, counter, exc)
        return _error(503, "voice_unavailable", str(exc))
    response = send_file(path, mimetype="audio/wav", max_age=MAX_AGE, conditional=True)
    response.cache_control.public = False
    response.cache_control.private = True
    return response


def register_voice(bp: Blueprint) -> None:
    """Add ``GET /offices/<code>/voice/call.wav`` to ``bp`` (mounted at /api/v1)."""
    bp.add_url_rule("/offices/<code>/voice/call.wav", endpoint="voice_call", view_func=call_wav,
                    methods=["GET"])
