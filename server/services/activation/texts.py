"""Refusal messages (Bahasa Indonesia / English) and the session view of the activation
station page (issue 5)."""
from __future__ import annotations

from sqlalchemy.orm import Session

from ...models import MAX_FINGERPRINT_FAILURES, Activation, Application
from .cards import binding_of

MESSAGES: dict[str, str] = {
    "resi_forged": "Kode QR resi palsu atau diubah / the resi QR is forged or altered",
    "resi_malformed": "Kode QR resi rusak atau terpotong / the resi QR is damaged or truncated",
    "resi_foreign": "Ini bukan kode QR resi Loket / not a Loket resi QR",
    "resi_wrong_office": "Resi dari kantor lain / a resi of another office",
    "resi_unknown": "Resi tidak dikenal / unknown resi",
    "application_unknown": "Berkas tidak ditemukan untuk resi atau NIK ini / no application for this resi or NIK",
    "not_ktp": "Berkas ini bukan KTP-el: tidak perlu aktivasi / not a KTP-el: nothing to activate",
    "not_printed": "KTP-el belum dicetak (langkah sekarang: {step_name}; perkiraan selesai {due_date}) / "
                   "the KTP-el is not printed yet (now: {step_name}; due {due_date})",
    "already_activated": "KTP-el ini sudah diaktivasi ({activated_at}) / this KTP-el is already activated",
    "not_bound": "Kartu belum didaftarkan saat pencetakan: minta operator cetak menempelkan kartu / no card was "
                 "bound at print: ask the printing operator to tap the card",
    "activation_blocked": "Aktivasi diblokir setelah {failures} kali gagal verifikasi sidik jari: perlu pelepasan "
                          "oleh Kepala Seksi / blocked after {failures} failed fingerprint verifications: a section "
                          "head must release it",
    "card_not_present": "Tidak ada kartu di pembaca: tempelkan KTP-el pemohon / no card on the reader: tap the "
                        "applicant's KTP-el",
    "card_mismatch": "Kartu di pembaca bukan kartu berkas ini / the card on the reader is not this file's card",
    "fingerprint_not_verified": "Sidik jari belum terverifikasi / the fingerprint is not verified yet",
    "checklist_incomplete": "Centang: pemohon hadir sendiri dan identitas diperiksa / tick: applicant in person "
                            "and identity checked",
    "unknown_card": "Kartu tidak dikenal: tidak terdaftar untuk berkas mana pun / unknown card: not bound to any file",
    "bound_elsewhere": "Kartu ini terdaftar untuk berkas lain / this card is bound to another application",
}


def message(code: str, **details) -> str:
    """The bilingual text of refusal ``code`` with its details filled in ("-" when absent)."""
    text = MESSAGES.get(code, code)
    values = {k: (details.get(k) if details.get(k) is not None else "-")
              for k in ("step_name", "due_date", "activated_at", "failures")}
    return text.format(**values)


def view(session: Session, activation: Activation) -> dict:
    """The station page's SESSION: {"id", "status", "version", "application": {"id",
    "resi_number", "service", "name", "nik", "step_name", "status"}, "card": {"state",
    "refusal", "message", "uid", "bound_uid", "reader", "at"}, "fingerprint": {"attempts"
    (this session), "session_failures", "failures" (since the last release: 4 block the
    file), "max_failures", "verified", "blocked"}, "can_complete", "completed_at"}. Staff only: it holds the applicant's name and NIK."""
    app = session.get(Application, activation.application_id)
    binding = binding_of(session, app.id)
    step = app.steps[app.step_index] if app.step_code is not None else None
    blocked = binding is not None and binding.blocked_at is not None
    card = {"state": activation.card_state, "refusal": activation.card_refusal,
            "message": message(activation.card_refusal) if activation.card_refusal else None,
            "uid": activation.card_uid, "bound_uid": binding.uid if binding else None,
            "reader": activation.card_reader, "at": activation.card_at.isoformat() if activation.card_at else None}
    return {
        "id": activation.id, "status": activation.status, "version": activation.version,
        "application": {"id": app.id, "resi_number": app.resi_number, "service": app.service.name_id,
                        "name": app.applicant_name, "nik": app.applicant_nik,
                        "step_name": step.get("name_id") if step else None, "status": app.status},
        "card": card,
        "fingerprint": {"attempts": activation.attempts, "session_failures": activation.failures,
                        "failures": binding.fingerprint_failures if binding else 0,
                        "max_failures": MAX_FINGERPRINT_FAILURES, "verified": activation.fingerprint_ok,
                        "blocked": blocked},
        "can_complete": activation.status == "open" and activation.card_state == "match"
                        and activation.fingerprint_ok and not blocked,
        "completed_at": activation.closed_at.isoformat() if activation.closed_at and activation.status == "completed"
                        else None,
    }
