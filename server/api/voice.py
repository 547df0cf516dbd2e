"""The spoken queue call as a WAV file, for the waiting-room TV (``server.services.voice``)."""
from __future__ import annotations

import re
from functools import wraps
from pathlib import Path

from flask import current_app, send_file
from marshmallow import fields, validate
from sqlalchemy import select

from server.models import Office
from server.security import office_allowed
from server.services.errors import Forbidden, LoketError, NotFound
from server.services.voice import VoiceSynth, VoiceUnavailable

from .contract import DEVICE_SECURITY, STAFF_SECURITY, access, errors
from .schemas.common import Body

NUMBER_RE = re.compile(r"^[A-Z]{1,2}\d{1,4}$")
_SAFE_CODE = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9_.-]*$")
#: Seconds a browser may reuse a call WAV without asking again.
MAX_AGE = 86400


class NoVoice(LoketError):
    """No call audio can be produced (espeak-ng missing or failing, unusable clip): 503."""

    code = "voice_unavailable"
    http_status = 503


class CallQuery(Body):
    number = fields.String(required=True, validate=validate.Regexp(NUMBER_RE),
                           metadata={"example": "A012", "description": "the ticket's display number"})
    counter = fields.Integer(required=True, validate=validate.Range(min=1, max=999),
                             metadata={"example": 3, "description": "the counter (loket) number"})
    token = fields.String(metadata={"description": "a display device token (or Authorization: Bearer)"})


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


def _office_scope(view):
    """The office of ``code`` for this caller, checked before the query is read: 404 unknown
    office, 403 a display or staff of another office (the office scope rule)."""
    @wraps(view)
    def inner(*args, code: str, **kwargs):
        with current_app.extensions["loket"].db.session() as s:
            office_id = s.scalar(select(Office.id).where(Office.code == code))
        if office_id is None:
            raise NotFound(key="error.api_queue.office_not_found", params={"code": code})
        if not office_allowed(office_id):  # the office scope rule, for displays and staff alike
            raise Forbidden(key="error.api_queue.voice_other_office")
        return view(*args, code=code, **kwargs)

    return inner


def call_wav(args: dict, code: str):
    """The spoken call "Nomor antrian, A, dua belas, silakan menuju loket, tiga" of
    ``number`` at ``counter`` as a WAV (22050 Hz mono 16-bit: chime, pause, then the
    Indonesian call; cacheable for a day). The office's display devices (``?token=`` or
    Bearer) and its signed-in staff may fetch it: 403 a display or staff of another office,
    404 unknown office, 503 ``voice_unavailable`` (espeak-ng missing, bad clip)."""
    number, counter = args["number"], args["counter"]
    try:
        path = voice_synth(code).call_wav(number, counter)
    except VoiceUnavailable as exc:
        current_app.logger.warning("voice call %s/%s: %s", number, counter, exc)
        raise NoVoice(key="error.api_queue.voice_unavailable", params={"detail": str(exc)}) from None
    response = send_file(path, mimetype="audio/wav", max_age=MAX_AGE, conditional=True)
    response.cache_control.public = False
    response.cache_control.private = True
    return response


def register_voice(bp) -> None:
    """Add ``GET /offices/<code>/voice/call.wav`` to ``bp`` (mounted at /api/v1)."""
    view = errors(404, 503)(call_wav)
    view = bp.alt_response(200, success=True, response={
        "description": "the call as a WAV file", "content_type": "audio/wav",
        "schema": {"type": "string", "format": "binary"}})(view)
    view = bp.arguments(CallQuery, location="query")(view)
    view = _office_scope(view)
    view = access(roles=(), devices=("display",))(view)
    view = bp.doc(security=[DEVICE_SECURITY, STAFF_SECURITY])(view)  # any signed-in staff of the office too
    bp.get("/offices/<code>/voice/call.wav", endpoint="voice_call")(view)
