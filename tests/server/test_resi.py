"""Resi numbers and signed QR payloads (server/services/resi.py): pure, no database."""
from __future__ import annotations

import re
from datetime import date, datetime

import pytest

from server.services.errors import ValidationError
from server.services.resi import (
    ResiError, ResiForeign, ResiForged, ResiMalformed, ResiRef, ResiSigner, ResiWrongOffice,
    derive_key, normalize_resi_number, resi_number,
)

KEY = derive_key("test-secret-key")
SIGNER = ResiSigner(KEY)
NUMBER = "DEMO-A-20261121-0042"


@pytest.fixture
def payload() -> str:
    return SIGNER.make_payload(42, "DEMO", NUMBER)


def reason(text: str, expected_office: str | None = None, signer: ResiSigner = SIGNER) -> str:
    with pytest.raises(ResiError) as err:
        signer.verify(text, expected_office=expected_office)
    assert isinstance(err.value, ValidationError)
    assert err.value.details["reason"] == err.value.reason
    assert " / " in err.value.message
    return err.value.reason


def test_round_trip(payload):
    assert re.fullmatch(r"LKT1\.DEMO\.DEMO-A-20261121-0042\.42\.[A-Z2-7]{26}", payload)
    assert SIGNER.verify(payload) == ResiRef("DEMO", NUMBER, 42)
    assert SIGNER.verify(payload, expected_office="DEMO").resi_id == 42
    assert SIGNER.make_payload(42, "DEMO", NUMBER) == payload      # deterministic


def test_payload_fits_the_qr_alphanumeric_set(payload):
    assert set(payload) <= set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")
    assert len(payload) < 80


def test_payload_holds_no_personal_data():
    # make_payload takes no name, NIK or phone: the payload is exactly the three fields + sig.
    p = SIGNER.make_payload(7, "PKU", "PKU-B-20260102-0001")
    version, office, number, rid, sig = p.split(".")
    assert (version, office, number, rid) == ("LKT1", "PKU", "PKU-B-20260102-0001", "7")
    assert not re.search(r"\d{16}", p)


def test_forged_signature(payload):
    other = ResiSigner(derive_key("another-secret")).make_payload(42, "DEMO", NUMBER)
    assert reason(other) == "forged"
    body, sig = payload.rsplit(".", 1)
    flipped = sig[:-1] + ("A" if sig[-1] != "A" else "B")
    assert reason(f"{body}.{flipped}") == "forged"


@pytest.mark.parametrize("field, value", [(1, "DEMP"), (2, "DEMO-A-20261121-0043"), (3, "43"), (3, "420")])
def test_altered_fields_are_forged(payload, field, value):
    parts = payload.split(".")
    parts[field] = value
    assert reason(".".join(parts)) == "forged"


def test_truncated(payload):
    for cut in (1, 5, 26, 27, 30, len(payload) - 6):
        assert reason(payload[:-cut]) == "malformed", cut
    assert reason("LKT1") == "malformed"
    assert reason("LKT1.") == "malformed"
    assert reason(payload + "AB") == "malformed"
    assert reason(payload + ".X") == "malformed"


def test_bad_shapes_are_malformed(payload):
    parts = payload.split(".")
    for field, value in [(1, ""), (1, "DE MO"), (2, "DEMO/A"), (3, "0"), (3, "-1"), (3, "4x"), (4, "1" * 26)]:
        bad = parts.copy()
        bad[field] = value
        assert reason(".".join(bad)) == "malformed", (field, value)
    assert reason("LKT2." + ".".join(parts[1:])) == "malformed"     # unsupported version


@pytest.mark.parametrize("text", [
    "", "   ", "hello world", "0042", "WIFI:S:office;T:WPA;P:secret;;", "3171011205850001",
    "https://example.com/product/123", "http://other.system/r/ABC.DEF", "https://example.com/",
    "mailto:someone@example.com", "LKTX.DEMO.x.1.y", "x" * 5000, "LÖKET",
])
def test_foreign_payloads(text):
    assert reason(text) == "foreign"
    with pytest.raises(ResiMalformed):   # foreign is a kind of malformed
        SIGNER.verify(text)


def test_wrong_office(payload):
    with pytest.raises(ResiWrongOffice) as err:
        SIGNER.verify(payload, expected_office="PKU")
    assert err.value.details["office_code"] == "DEMO"
    assert err.value.code == "resi_wrong_office"


def test_distinct_error_codes():
    codes = {cls.code for cls in (ResiMalformed, ResiForeign, ResiForged, ResiWrongOffice)}
    assert len(codes) == 4
    assert all(issubclass(cls, ValidationError) for cls in (ResiMalformed, ResiForged, ResiWrongOffice))


def test_whitespace_and_url_wrapper(payload):
    expected = ResiRef("DEMO", NUMBER, 42)
    for text in (f"  {payload}\r\n", f"\t{payload} ", f"https://loket.example.go.id/r/{payload}",
                 f"http://10.0.0.5:8000/r/{payload}/", f"HTTPS://host/loket/r/{payload}?src=qr#x",
                 f" https://host/r/{payload}\n"):
        assert SIGNER.verify(text, expected_office="DEMO") == expected, text
    assert SIGNER.verify(payload.lower().replace("lkt1.demo.demo-a", "LKT1.DEMO.DEMO-A")) == expected
    assert reason(f"https://host/r/{payload[:-3]}") == "malformed"


def test_make_payload_refuses_bad_input():
    for args in [(0, "DEMO", NUMBER), (-1, "DEMO", NUMBER), (True, "DEMO", NUMBER), ("42", "DEMO", NUMBER),
                 (1, "DE.MO", NUMBER), (1, "", NUMBER), (1, "X" * 33, NUMBER), (1, "DEMO", "A.B"), (1, "DEMO", "")]:
        with pytest.raises(ValueError):
            SIGNER.make_payload(*args)


def test_key_derivation_is_stable():
    assert derive_key("test-secret-key") == KEY
    assert len(KEY) == 32
    assert derive_key("test-secret-key ") != KEY
    assert KEY.hex() == derive_key("test-secret-key").hex()
    # The derivation is HMAC-SHA256(secret, b"loket-resi-v1"); pin one value.
    import hashlib
    import hmac
    assert KEY == hmac.new(b"test-secret-key", b"loket-resi-v1", hashlib.sha256).digest()
    assert ResiSigner(derive_key("test-secret-key")).make_payload(1, "DEMO", NUMBER) == \
        SIGNER.make_payload(1, "DEMO", NUMBER)
    with pytest.raises(ValueError):
        derive_key("")
    with pytest.raises(ValueError):
        ResiSigner(b"short")


def test_resi_number_format():
    assert resi_number("DEMO", "A", date(2026, 11, 21), 42) == NUMBER
    assert resi_number("pku", "KK", date(2026, 1, 2), 1) == "PKU-KK-20260102-0001"
    assert resi_number("SIM-1", "B", date(2026, 1, 2), 12345) == "SIM-1-B-20260102-12345"
    for args in [("DEMO", "a", date(2026, 1, 2), 1), ("DEMO", "ABC", date(2026, 1, 2), 1),
                 ("DE MO", "A", date(2026, 1, 2), 1), ("DEMO", "A", date(2026, 1, 2), 0),
                 ("DEMO", "A", datetime(2026, 1, 2), 1), ("", "A", date(2026, 1, 2), 1)]:
        with pytest.raises(ValueError):
            resi_number(*args)


def test_normalize_typed_resi_number():
    assert normalize_resi_number(" demo-a-20261121-0042 ") == NUMBER
    assert normalize_resi_number("demo a 20261121 42") == NUMBER
    assert normalize_resi_number("SIM-1_B.20260102-7") == "SIM-1-B-20260102-0007"
    for text in ["", "DEMO-A-20261321-0042", "DEMO-20261121-0042", "DEMO-A-2026112-0042", "DEMO-A-20261121-0000"]:
        with pytest.raises(ValidationError) as err:
            normalize_resi_number(text)
        assert err.value.details["field"] == "resi_number"
