"""Serial LED displays and call keypads: frame formats, and the drivers over real socat pty pairs."""
from __future__ import annotations

import time
from functools import partial

import pytest

from drivers.errors import DeviceError, DeviceUnavailable
from drivers.serialdev import DisplayState, FORMATS, Key, Keypad, KeypadState, SerialLedDisplay, SerialLink, make_format
from drivers.serialdev.frames import (
    ETX, STX, KeyLineReader, ProtocolError, checksum, encode_key_line, fit, parse_key_line,
)
from drivers.serialdev.simulator import KeypadSimulator, LedDisplaySimulator, pty_pair
from tests import live


wait_for = partial(live.wait_for, timeout=5.0, interval=0.01)


@pytest.fixture
def pair(tmp_path):
    """A socat pty pair (links tmp_path/A and tmp_path/B), stopped after the test."""
    pairs = [pty_pair(tmp_path)]
    yield pairs  # a test may append a restarted pair
    for p in pairs:
        p.stop()


# -- frame formats ------------------------------------------------------------------------
def test_loket_ascii_reference_bytes():
    fmt = make_format("loket-ascii")
    frame = fmt.encode(1, "A012")
    assert frame == b"\x02" + b"1NA012" + b"\x03" + bytes([checksum(b"1NA012\x03")])
    assert frame[-1] == 0x31 ^ 0x4E ^ 0x41 ^ 0x30 ^ 0x31 ^ 0x32 ^ 0x03
    assert fmt.encode(2, "12") == b"\x022N  12\x03" + bytes([checksum(b"2N  12\x03")])
    assert fmt.encode(10, "----")[1:2] == b":"  # address 10 is 0x30 + 10


def test_plain_line_reference_bytes():
    assert make_format("plain-line").encode(3, "A012") == b"3:A012\r\n"
    assert make_format("plain-line", width=6).encode(12, "B7") == b"12:    B7\r\n"


@pytest.mark.parametrize("name", sorted(FORMATS))
@pytest.mark.parametrize("address,text", [(1, "A012"), (2, "----"), (8, "B1"), (0, "")])
def test_frames_round_trip(name, address, text):
    fmt = make_format(name)
    frame = fmt.decode(fmt.encode(address, text))
    assert frame.address == address and frame.shown == text.strip()


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_stream_parser_byte_by_byte(name):
    fmt = make_format(name)
    texts = [(1, "A001"), (2, "B002"), (3, "----"), (1, "A002")]
    stream = b"".join(fmt.encode(a, t) for a, t in texts)
    parser = fmt.parser()
    frames = [f for i in range(len(stream)) for f in parser.feed(stream[i:i + 1])]
    assert [(f.address, f.shown) for f in frames] == texts and parser.errors == []


def test_checksum_byte_may_be_stx_or_etx():
    fmt = make_format("loket-ascii")
    tricky = {}
    for n in range(1000):
        frame = fmt.encode(1, f"A{n:03d}")
        if frame[-1] in (STX, ETX):
            tricky.setdefault(frame[-1], frame)
    assert set(tricky) == {STX, ETX}
    stream = tricky[STX] + tricky[ETX] + fmt.encode(2, "A999")
    parser = fmt.parser()
    expected = [fmt.decode(tricky[STX]).shown, fmt.decode(tricky[ETX]).shown, "A999"]
    assert [f.shown for f in parser.feed(stream)] == expected
    assert parser.errors == []


def test_bad_checksum_is_rejected_and_the_stream_goes_on():
    fmt = make_format("loket-ascii")
    good = fmt.encode(1, "A012")
    bad = good[:-1] + bytes([good[-1] ^ 0xFF])
    with pytest.raises(ProtocolError, match="bad checksum"):
        fmt.decode(bad)
    parser = fmt.parser()
    assert [f.shown for f in parser.feed(bad + fmt.encode(2, "B001"))] == ["B001"]
    assert len(parser.errors) == 1 and "bad checksum" in parser.errors[0]


@pytest.mark.parametrize("garbage", [
    b"\x00\xff\xfe noise \x03",         # stray bytes, a lone ETX
    b"\x021NA0",                         # a frame cut short (cable pulled mid-frame)
    b"\x02" + b"9" * 300,                # no ETX at all
    bytes(range(256)),                    # every byte value
])
def test_loket_ascii_garbage_never_breaks_the_parser(garbage):
    fmt = make_format("loket-ascii")
    parser = fmt.parser()
    frames = parser.feed(fmt.encode(1, "A001") + garbage + fmt.encode(2, "A002") + fmt.encode(3, "A003"))
    assert [(f.address, f.shown) for f in frames][0] == (1, "A001")
    assert (3, "A003") in [(f.address, f.shown) for f in frames]
    assert parser.errors


def test_plain_line_garbage_is_reported():
    fmt = make_format("plain-line")
    parser = fmt.parser()
    frames = parser.feed(b"hello\r\n" + b"x" * 200 + b"\n" + b"\xff:zz\n" + b"4:A004\r\n")
    assert [(f.address, f.shown) for f in frames] == [(4, "A004")]
    assert len(parser.errors) == 3


def test_text_is_fitted_and_kept_printable():
    assert fit("A12", 4) == " A12" and fit("A1234", 4) == "1234" and fit("", 4) == "    "
    assert fit("Ä1\n2", 4) == " ?12"
    assert make_format("loket-ascii").decode(make_format("loket-ascii").encode(1, "Nö")).text == "  N?"


def test_unknown_format_and_bad_address_are_clear_errors():
    with pytest.raises(ValueError, match="known: loket-ascii, plain-line"):
        make_format("vendor-x")
    with pytest.raises(ValueError, match="address"):
        make_format("loket-ascii").encode(200, "A001")
    with pytest.raises(ValueError, match="address"):
        SerialLedDisplay("loop://", address=99)


# -- keypad protocol ----------------------------------------------------------------------
@pytest.mark.parametrize("line,address,key", [
    (b"K1:NEXT\r\n", 1, Key.NEXT), (b"K2:RECALL\n", 2, Key.RECALL), ("K12:skip", 12, Key.SKIP),
    (b"K3:F\r\n", 3, Key.FINISH), (b"K4:n\r\n", 4, Key.NEXT), (b"K5:S", 5, Key.SKIP),
])
def test_key_lines_parse(line, address, key):
    press = parse_key_line(line)
    assert (press.address, press.key) == (address, key)


@pytest.mark.parametrize("line,reason", [
    (b"K1:JUMP\r\n", "unknown key 'JUMP'"), (b"hello\r\n", "is not K<address>:<KEY>"),
    (b"K:NEXT\n", "is not K<address>:<KEY>"), (b"K1NEXT\n", "is not K<address>:<KEY>"),
    (b"\xff\xfe\n", "not ASCII"), (b"K1:NEXT extra\n", "is not K<address>:<KEY>"),
])
def test_key_line_garbage_is_rejected_clearly(line, reason):
    with pytest.raises(ProtocolError, match=reason.replace("<", ".").replace(">", ".")):
        parse_key_line(line)


def test_key_line_reader_skips_garbage():
    reader = KeyLineReader()
    stream = (b"\x00\x00K1:NEXT\r\n" + b"noise\r\n" + b"Z" * 500 + b"\n" + b"\r\n" + encode_key_line(2, Key.FINISH)
              + b"K3:R")
    presses = [p for i in range(0, len(stream), 7) for p in reader.feed(stream[i:i + 7])]
    assert [(p.address, p.key) for p in presses] == [(2, Key.FINISH)]  # the first line had NULs in front
    assert [(p.address, p.key) for p in reader.feed(b"\r\n")] == [(3, Key.RECALL)]
    assert len(reader.errors) >= 3


# -- display over a pty pair --------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(FORMATS))
def test_display_bus_over_pty_pair(pair, name):
    pty = pair[0]
    sim = LedDisplaySimulator(pty.b, frame_format=name).start()
    try:
        link = SerialLink(pty.a)
        displays = {n: SerialLedDisplay(link, address=n, frame_format=name) for n in (1, 2, 3)}
        displays[1].show("A012")
        displays[2].show("B003")
        displays[3].show("----")
        displays[1].show("A013")
        assert sim.wait_shown(1, "A013") and sim.wait_shown(2, "B003") and sim.wait_shown(3, "----")
        assert sim.history(1) == ["A012", "A013"] and sim.errors == []
        status = displays[1].status()
        assert status.state == DisplayState.OK and status.last_answer_at is not None
        assert displays[1].shown == "A013"
    finally:
        sim.close()


def test_acknowledged_display_reports_no_answer_and_reopens(pair):
    pty = pair[0]
    sim = LedDisplaySimulator(pty.b, ack=True).start()
    display = SerialLedDisplay(pty.a, address=1, ack=True, ack_timeout_s=0.3)
    display.show("A001")
    assert sim.wait_shown(1, "A001") and display.status().state == DisplayState.OK
    answered = display.status().last_answer_at

    sim.close()  # the display end is unplugged: no ACK comes back
    with pytest.raises(DeviceUnavailable, match="no answer"):
        display.show("A002")
    assert display.status().state == DisplayState.OFFLINE and display.status().last_answer_at == answered

    sim.start()  # plugged back in
    display.show("A003")
    assert sim.wait_shown(1, "A003") and display.status().state == DisplayState.OK

    sim.answering = False  # a powered but broken display
    with pytest.raises(DeviceUnavailable):
        display.show("A004")
    sim.answering = True
    display.show("A005")
    assert display.status().state == DisplayState.OK
    display.close()
    sim.close()


def test_nak_is_a_device_error(pair):
    pty = pair[0]
    display = SerialLedDisplay(pty.a, address=1, ack=True, ack_timeout_s=1.0)
    display.link.open()
    peer = SerialLink(pty.b)
    nak = _answer_once(peer, b"\x15")  # a display that takes the frame as garbled
    with pytest.raises(DeviceError, match="NAK") as info:
        display.show("A002")
    assert not isinstance(info.value, DeviceUnavailable) and display.status().state == DisplayState.ERROR
    nak.join(2)
    peer.close()
    display.close()


def _answer_once(link: SerialLink, answer: bytes):
    import threading

    def run():
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            try:
                data = link.read(64)
            except DeviceUnavailable:
                # A pty can read as hung up ("readiness to read but returned no data") for a
                # moment while its other end is being opened; the link reopens on the next read.
                time.sleep(0.01)
                continue
            if data:
                link.write(answer)
                return

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_display_reopens_after_the_pty_pair_is_replugged(pair, tmp_path):
    pty = pair[0]
    sim = LedDisplaySimulator(pty.b).start()
    display = SerialLedDisplay(pty.a, address=1)
    display.show("A001")
    assert sim.wait_shown(1, "A001")
    sim.close()
    pty.stop()  # the USB-serial adapter is pulled: both ends disappear

    with pytest.raises(DeviceUnavailable):
        display.show("A002")
    assert display.status().state == DisplayState.OFFLINE
    with pytest.raises(DeviceUnavailable, match="cannot open"):
        display.show("A002")

    pair.append(pty_pair(tmp_path))  # plugged back: same paths, new ptys
    sim = LedDisplaySimulator(pair[-1].b).start()
    display.show("A003")
    assert sim.wait_shown(1, "A003") and display.status().state == DisplayState.OK
    sim.close()
    display.close()


def test_display_on_loop_url_with_simulator_on_the_same_link():
    link = SerialLink("loop://")
    sim = LedDisplaySimulator(link).start()
    try:
        SerialLedDisplay(link, address=4).show("C010")
        assert sim.wait_shown(4, "C010")
    finally:
        sim.close()


def test_pyserial_errors_become_device_unavailable(tmp_path):
    display = SerialLedDisplay(str(tmp_path / "ttyUSB9"), address=1)
    with pytest.raises(DeviceUnavailable, match="cannot open"):
        display.show("A001")
    assert display.status().state == DisplayState.OFFLINE
    with pytest.raises(DeviceUnavailable):
        SerialLedDisplay("nosuchscheme://x", address=1).show("A001")


# -- keypad over a pty pair ---------------------------------------------------------------
def test_keypad_reads_presses_ignores_garbage_and_survives_a_replug(pair, tmp_path):
    pty = pair[0]
    presses = []
    keypad = Keypad(pty.a, presses.append, min_backoff_s=0.05, max_backoff_s=0.2)
    keypad.start()
    sim = KeypadSimulator(pty.b)
    try:
        sim.press(1, Key.NEXT)
        sim.send_raw(b"\x00\xffgarbage\r\nK1:JUMP\r\n")
        sim.press(2, "finish")
        KeypadSimulator(pty.b, short_codes=True).press(1, "RECALL")
        wait_for(lambda: len(presses) == 3, what="three presses")
        assert [(p.address, p.key) for p in presses] == [(1, Key.NEXT), (2, Key.FINISH), (1, Key.RECALL)]
        assert len(keypad.errors) == 2 and keypad.status().state == KeypadState.OK

        sim.close()
        pty.stop()  # unplugged
        wait_for(lambda: keypad.status().state == KeypadState.OFFLINE, what="keypad offline")
        pair.append(pty_pair(tmp_path))
        sim = KeypadSimulator(pair[-1].b)
        wait_for(lambda: keypad.status().state == KeypadState.OK, what="keypad reopened")
        sim.press(3, Key.SKIP)
        wait_for(lambda: len(presses) == 4, what="press after replug")
        assert (presses[-1].address, presses[-1].key) == (3, Key.SKIP)
        assert keypad.status().last_answer_at is not None
    finally:
        keypad.stop()
        sim.close()


def test_keypad_callback_errors_do_not_stop_the_reader(pair):
    pty = pair[0]
    seen = []

    def handler(press):
        seen.append(press)
        if len(seen) == 1:
            raise RuntimeError("handler bug")

    keypad = Keypad(pty.a, handler)
    keypad.start()
    sim = KeypadSimulator(pty.b)
    try:
        sim.press(1, Key.NEXT)
        wait_for(lambda: len(seen) == 1, what="first press")
        sim.press(1, Key.SKIP)
        wait_for(lambda: len(seen) == 2, what="second press")
    finally:
        keypad.stop()
        sim.close()
