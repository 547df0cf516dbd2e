"""Notice providers behind one interface, chosen by name from configuration.

``providers_from_config`` turns the office's configuration into {channel: provider}::

    {"whatsapp": {"kind": "http", "url": "...", "token": "...", "body": {...}},
     "sms": {"kind": "http", ...},
     "email": {"kind": "smtp", "host": "mail.example.id", "sender": "Disdukcapil <noreply@...>"}}

A channel left out (or set to None) is not configured: no notice is queued on it. New
kinds are added with :func:`register_provider_kind` (the shape of CTFd's e-mail providers).
"""
from __future__ import annotations

import inspect
from typing import Callable

from .base import NoticeProvider, OutgoingNotice, ProviderError, ProviderRejected, ProviderUnavailable
from .http_gateway import HttpGatewayProvider
from .smtp import SmtpProvider

CHANNELS = ("whatsapp", "sms", "email")

#: kind → (factory taking the options as keywords, channels it may serve).
_KINDS: dict[str, tuple[Callable[..., NoticeProvider], frozenset[str]]] = {
    "smtp": (SmtpProvider, frozenset({"email"})),
    "http": (HttpGatewayProvider, frozenset(CHANNELS)),
}


class NoticeConfigError(ValueError):
    """The notice configuration is wrong; the message names the channel and the problem."""


def register_provider_kind(kind: str, factory: Callable[..., NoticeProvider], channels=CHANNELS) -> None:
    """Make ``kind`` available in the configuration for ``channels``."""
    _KINDS[kind] = (factory, frozenset(channels))


def provider_kinds() -> list[str]:
    """The kinds the configuration may name."""
    return sorted(_KINDS)


def _build(channel: str, options: dict) -> NoticeProvider:
    options = dict(options)
    kind = options.pop("kind", None)
    if kind not in _KINDS:
        raise NoticeConfigError(f"notices.{channel}: kind must be one of {provider_kinds()}, not {kind!r}")
    factory, channels = _KINDS[kind]
    if channel not in channels:
        raise NoticeConfigError(f"notices.{channel}: a {kind!r} provider cannot send {channel}")
    params = inspect.signature(factory).parameters
    if not any(p.kind is p.VAR_KEYWORD for p in params.values()):
        unknown = sorted(set(options) - set(params))
        if unknown:
            raise NoticeConfigError(f"notices.{channel}: unknown option(s) {unknown}; known: {sorted(params)}")
    try:
        return factory(**options)
    except (TypeError, ValueError) as e:
        raise NoticeConfigError(f"notices.{channel}: {e}") from None


def providers_from_config(config: dict | None) -> dict[str, NoticeProvider]:
    """{channel: provider} for the configured channels (whatsapp, sms, email).

    Raises NoticeConfigError for an unknown channel or kind, a kind that cannot serve the
    channel, an unknown or missing option, or a bad value."""
    out: dict[str, NoticeProvider] = {}
    for channel, options in (config or {}).items():
        if channel not in CHANNELS:
            raise NoticeConfigError(f"notices: unknown channel {channel!r}; channels: {list(CHANNELS)}")
        if not options:
            continue
        if not isinstance(options, dict):
            raise NoticeConfigError(f"notices.{channel}: expected a table of options")
        out[channel] = _build(channel, options)
    return out


__all__ = [
    "CHANNELS", "HttpGatewayProvider", "NoticeConfigError", "NoticeProvider", "OutgoingNotice", "ProviderError",
    "ProviderRejected", "ProviderUnavailable", "SmtpProvider", "provider_kinds", "providers_from_config",
    "register_provider_kind",
]
