"""Loket's device errors: every driver turns its library's errors into these.

Callers (the kiosk agent, later the pickup and activation agents) only ever catch these two,
so a transport change (USB, serial, network, simulator) never changes their code.
"""
from __future__ import annotations


class DeviceError(Exception):
    """A device could not do what was asked (bad data, protocol error, hardware fault).

    ``str(exc)`` is a short reason fit for staff screens and the audit log.
    """


class DeviceUnavailable(DeviceError):
    """The device cannot work right now (offline, paper out, unplugged); retry later.

    ``str(exc)`` is a short reason fit for staff screens, e.g. "kertas habis / paper out".
    """
