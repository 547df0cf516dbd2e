"""Serial counter displays and call keypads (pyserial): frame formats, drivers, simulators.

- :mod:`.frames`: the byte formats (LED frame formats by name, the keypad line protocol);
- :mod:`.display`: :class:`LedDisplay`, :class:`SerialLedDisplay` and the shared :class:`SerialLink`;
- :mod:`.keypad`: :class:`Keypad`, a background reader of key presses;
- :mod:`.simulator`: simulators speaking the same bytes, and socat pty pairs.

README.md in this folder: formats, wiring, how to add a vendor format.
"""
from .display import DisplayState, DisplayStatus, LedDisplay, SerialLedDisplay, SerialLink
from .frames import FORMATS, IDLE_TEXT, Frame, FrameFormat, Key, KeyPress, ProtocolError, make_format, register_format
from .keypad import Keypad, KeypadState, KeypadStatus

__all__ = [
    "DisplayState", "DisplayStatus", "FORMATS", "Frame", "FrameFormat", "IDLE_TEXT", "Key", "KeyPress", "Keypad",
    "KeypadState", "KeypadStatus", "LedDisplay", "ProtocolError", "SerialLedDisplay", "SerialLink", "make_format",
    "register_format",
]
