"""PC/SC through pyscard: the short bilingual reasons staff see, PC/SC result codes turned
into :class:`~drivers.errors.DeviceError` / :class:`~drivers.errors.DeviceUnavailable`,
listing the readers, and reading a tapped card's ATR and UID (see :mod:`.reader` for
what Loket reads and why only that).
"""
from __future__ import annotations

from dataclasses import dataclass

from drivers.errors import DeviceError, DeviceUnavailable

GET_UID_APDU = (0xFF, 0xCA, 0x00, 0x00, 0x00)
"""PC/SC part 3 GET DATA, P1=00: the card's UID (answered by the reader, not the chip)."""
PNP_NOTIFICATION = "\\\\?PnP?\\Notification"
"""The pseudo-reader whose state changes when a reader is plugged in or out."""

NO_SERVICE = "layanan PC/SC (pcscd) tidak berjalan / PC/SC service (pcscd) not running"
NO_READER = "pembaca kartu tidak terhubung / no card reader connected"
CARD_REMOVED = "kartu dilepas saat dibaca, tempelkan lagi / card removed while reading, tap again"
CARD_MUTE = "kartu tidak merespons / card does not answer"
READER_BUSY = "pembaca dipakai program lain / reader in use by another program"
READER_GONE = "pembaca kartu tidak ada / card reader gone"


def _scard():
    """pyscard's low-level module, or DeviceUnavailable with the install hint."""
    try:
        from smartcard import scard
    except ImportError as exc:  # pragma: no cover - depends on the machine
        raise DeviceUnavailable(
            "pyscard tidak terpasang / pyscard not installed: pip install -e '.[smartcard]' "
            "(builds with swig, a C compiler and libpcsclite-dev)") from exc
    return scard


def _code(hr: int) -> int:
    return hr & 0xFFFFFFFF


def pcsc_message(hr: int) -> str:
    """PC/SC's own text for result code ``hr``, with the code in hex."""
    try:
        text = _scard().SCardGetErrorMessage(hr).strip().rstrip(".")
    except Exception:  # never fail while describing a failure
        text = "PC/SC error"
    return f"{text} (0x{_code(hr):08X})"


def _codes(*names: str) -> frozenset[int]:
    scard = _scard()
    return frozenset(_code(getattr(scard, n)) for n in names if hasattr(scard, n))


def _service_gone_codes() -> frozenset[int]:
    """Results that mean our context is dead: the daemon stopped or restarted."""
    return _codes("SCARD_E_NO_SERVICE", "SCARD_E_SERVICE_STOPPED", "SCARD_E_INVALID_HANDLE",
                  "SCARD_F_COMM_ERROR", "SCARD_F_INTERNAL_ERROR", "SCARD_E_NO_MEMORY")


def _card_gone_codes() -> frozenset[int]:
    """Results that mean the card left the field during the exchange."""
    return _codes("SCARD_W_REMOVED_CARD", "SCARD_E_NO_SMARTCARD", "SCARD_W_RESET_CARD",
                  "SCARD_E_NOT_TRANSACTED", "SCARD_E_COMM_DATA_LOST", "SCARD_W_UNPOWERED_CARD")


@dataclass(frozen=True)
class CardRead:
    """What a tap gives: ``atr`` always; ``uid`` unless the reader refused GET DATA, then
    ``problem`` says why."""

    atr: str
    uid: str | None
    problem: str | None = None


def list_readers(context: int | None = None) -> list[str]:
    """The PC/SC reader names now. Raises DeviceUnavailable when pcscd does not answer."""
    scard = _scard()
    own = context is None
    if own:
        hr, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
        if hr != scard.SCARD_S_SUCCESS:
            raise DeviceUnavailable(f"{NO_SERVICE}: {pcsc_message(hr)}")
    try:
        hr, names = scard.SCardListReaders(context, [])
        if _code(hr) == _code(scard.SCARD_E_NO_READERS_AVAILABLE):
            return []
        if hr != scard.SCARD_S_SUCCESS:
            raise DeviceUnavailable(f"{NO_SERVICE}: {pcsc_message(hr)}")
        return list(names)
    finally:
        if own:
            scard.SCardReleaseContext(context)


def read_card(context: int, reader: str) -> CardRead:
    """Connect to the card on ``reader`` (shared), read its ATR and UID, disconnect.

    Raises DeviceUnavailable when the card left mid-read or the reader is busy or gone,
    DeviceError when the card does not answer or PC/SC fails otherwise.
    """
    scard = _scard()
    hr, handle, protocol = scard.SCardConnect(context, reader, scard.SCARD_SHARE_SHARED,
                                              scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1)
    if hr != scard.SCARD_S_SUCCESS:
        raise _card_error(hr)
    try:
        hr, _name, _state, _protocol, atr = scard.SCardStatus(handle)
        if hr != scard.SCARD_S_SUCCESS:
            raise _card_error(hr)
        hr, response = scard.SCardTransmit(handle, protocol, list(GET_UID_APDU))
        if hr != scard.SCARD_S_SUCCESS:
            raise _card_error(hr)
        if len(response) < 2:  # vpcd answers an empty response when the card left mid-APDU
            raise DeviceUnavailable(CARD_REMOVED)
        atr_hex = bytes(atr).hex().upper()
        sw = bytes(response[-2:]).hex().upper()
        if sw != "9000" or len(response) == 2:
            return CardRead(atr_hex, None, f"UID tidak dapat dibaca / UID not readable (SW {sw})")
        return CardRead(atr_hex, bytes(response[:-2]).hex().upper())
    finally:
        scard.SCardDisconnect(handle, scard.SCARD_LEAVE_CARD)


def _card_error(hr: int) -> DeviceError:
    scard = _scard()
    code = _code(hr)
    if code in _card_gone_codes():
        return DeviceUnavailable(CARD_REMOVED)
    if code in _codes("SCARD_E_UNKNOWN_READER", "SCARD_E_READER_UNAVAILABLE"):
        return DeviceUnavailable(READER_GONE)
    if code == _code(scard.SCARD_E_SHARING_VIOLATION):
        return DeviceUnavailable(READER_BUSY)
    if code == _code(getattr(scard, "SCARD_W_UNRESPONSIVE_CARD", -1)):
        return DeviceError(CARD_MUTE)
    if code in _service_gone_codes():
        return DeviceUnavailable(f"{NO_SERVICE}: {pcsc_message(hr)}")
    return DeviceError(f"gagal membaca kartu / card read failed: {pcsc_message(hr)}")
