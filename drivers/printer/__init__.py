"""Ticket printers: the interface (base), the ticket and resi layouts (ESC/POS bytes) and a simulator.

Transports for real printers (USB, serial, network) subclass ``EscposTicketPrinter`` and
only implement ``send`` and ``status``.
"""
from .base import (ATTENTION_STATES, PRINTABLE_STATES, EscposTicketPrinter, PrinterState, PrinterStatus, PrintInterrupted,
                   TicketPrinter)
from .layout import render_ticket
from .resi_layout import render_resi

__all__ = [
    "ATTENTION_STATES", "PRINTABLE_STATES", "EscposTicketPrinter", "PrinterState", "PrinterStatus",
    "PrintInterrupted", "TicketPrinter", "render_resi", "render_ticket",
]
