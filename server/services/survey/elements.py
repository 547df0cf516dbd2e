"""The nine survey elements (unsur) of PermenPANRB 14/2017, appendix, and its 1..4 scale.

Each element is answered 1 (worst) .. 4 (best); the question wording and the four answer
labels shown to citizens are in the i18n area ``survey`` (``survey.q.u1``,
``survey.a.u1.1`` .. ``survey.a.u1.4``), in Bahasa Indonesia as the regulation's sample
questionnaire words them, and in English.
"""
from __future__ import annotations

from dataclasses import dataclass

SCALE = (1, 2, 3, 4)


@dataclass(frozen=True)
class Element:
    """``key`` (the response column, "u1"), ``code`` ("U1") and its short names."""

    key: str
    code: str
    name_id: str
    name_en: str


ELEMENTS: tuple[Element, ...] = (
    Element("u1", "U1", "Persyaratan", "Requirements"),
    Element("u2", "U2", "Sistem, mekanisme dan prosedur", "Systems, mechanisms and procedures"),
    Element("u3", "U3", "Waktu penyelesaian", "Completion time"),
    Element("u4", "U4", "Biaya/tarif", "Cost/fee"),
    Element("u5", "U5", "Produk spesifikasi jenis pelayanan", "Product specification of the service"),
    Element("u6", "U6", "Kompetensi pelaksana", "Competence of the staff"),
    Element("u7", "U7", "Perilaku pelaksana", "Behaviour of the staff"),
    Element("u8", "U8", "Penanganan pengaduan, saran dan masukan", "Handling of complaints, suggestions and feedback"),
    Element("u9", "U9", "Sarana dan prasarana", "Facilities and infrastructure"),
)
