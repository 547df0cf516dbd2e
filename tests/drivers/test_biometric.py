"""Biometric verifier: outcomes only (no matching, no biometric data), the officer's record,
the simulator used by tests and the demo."""
from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone

import pytest

from drivers.biometric import (BiometricVerifier, NotSupported, OfficerConfirmedVerifier, SimulatedVerifier,
                               VerificationResult, VerifierState, officer_result)
from drivers.errors import DeviceError, DeviceUnavailable

NIK = "3201010101900001"


def test_simulator_answers_script_in_order_then_default():
    sim = SimulatedVerifier(["no_match", "cancelled", "match"])
    outcomes = [sim.verify(NIK, timeout_s=5).outcome for _ in range(4)]
    assert outcomes == ["no_match", "cancelled", "match", "match"]
    assert sim.requests == [NIK] * 4
    assert sim.remaining == []


def test_simulator_default_match_from_device():
    sim = SimulatedVerifier()
    result = sim.verify(NIK, timeout_s=1)
    assert result.outcome == "match" and result.matched
    assert result.source == "device"
    assert isinstance(sim, BiometricVerifier)
    assert sim.status() == (VerifierState.OK, "")


def test_simulator_rejects_unknown_script_outcome():
    with pytest.raises(ValueError):
        SimulatedVerifier(["maybe"])


def test_simulator_offline_raises_bilingual_device_unavailable():
    sim = SimulatedVerifier(["no_match"])
    sim.set_offline()
    with pytest.raises(DeviceUnavailable) as exc:
        sim.verify(NIK, timeout_s=1)
    assert " / " in str(exc.value) and "not connected" in str(exc.value)
    assert sim.status()[0] is VerifierState.OFFLINE
    sim.set_online()
    assert sim.verify(NIK, timeout_s=1).outcome == "no_match"  # the script was not consumed


def test_simulator_timeout_raises_device_unavailable():
    sim = SimulatedVerifier(delay_s=0.5)
    with pytest.raises(DeviceUnavailable):
        sim.verify(NIK, timeout_s=0.01)


def test_simulator_closed_raises():
    sim = SimulatedVerifier()
    sim.close()
    with pytest.raises(DeviceError):
        sim.verify(NIK, timeout_s=1)


def test_officer_result_validates_and_stamps_officer():
    result = officer_result("no_match", finger="right_thumb")
    assert (result.outcome, result.source, result.finger) == ("no_match", "officer", "right_thumb")
    assert officer_result("match").matched
    for bad in ("cancelled", "error", "MATCH", ""):
        with pytest.raises(ValueError):
            officer_result(bad)
    with pytest.raises(ValueError):
        officer_result("match", finger="tail")


def test_officer_confirmed_verifier_cannot_call_device():
    verifier = OfficerConfirmedVerifier()
    with pytest.raises(NotSupported) as exc:
        verifier.verify(NIK, timeout_s=1)
    assert isinstance(exc.value, DeviceError)
    assert "officer confirms" in str(exc.value) and " / " in str(exc.value)
    assert verifier.status()[0] is VerifierState.MANUAL


def test_results_are_frozen_and_aware_utc():
    result = officer_result("match")
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.outcome = "no_match"
    assert result.at.tzinfo is not None and result.at.utcoffset() == timedelta(0)
    wib = timezone(timedelta(hours=7))
    moved = VerificationResult("match", "device", at=datetime(2025, 1, 2, 9, 0, tzinfo=wib))
    assert moved.at == datetime(2025, 1, 2, 2, 0, tzinfo=timezone.utc) and moved.at.utcoffset() == timedelta(0)
    with pytest.raises(ValueError):
        VerificationResult("match", "device", at=datetime(2025, 1, 2, 9, 0))
    with pytest.raises(ValueError):
        VerificationResult("match", "sdk")
    assert moved.as_payload()["at"] == "2025-01-02T02:00:00+00:00"


def test_no_field_can_hold_biometric_data():
    names = {f.name for f in dataclasses.fields(VerificationResult)}
    assert names == {"outcome", "source", "detail", "at", "finger", "vendor_ref"}
