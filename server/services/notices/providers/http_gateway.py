"""WhatsApp and SMS notices through an HTTP gateway, described by configuration.

Most Indonesian WhatsApp and SMS gateways take one HTTP request per message: a URL, a
token, a JSON or form body naming the number and the text, and an answer carrying a
message id. This provider is that request, written as data, e.g.::

    {"kind": "http", "url": "https://wa.example.id/api/send", "token": "...",
     "body": {"phone": "{to}", "message": "{text}", "ref_id": "{ref}"},
     "message_id_path": "data.id", "ok_path": "status", "ok_values": [true]}

Placeholders, in the body's strings, the URL and header values: ``{to}`` (6281234567890),
``{to_plus}`` (+6281234567890), ``{to_local}`` (081234567890), ``{text}``, ``{subject}``,
``{id}`` (the notice id) and ``{ref}`` (its dedupe key: pass it where the gateway accepts an
idempotency key, so a copy sent again after a crash is dropped by the gateway).
"""
from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import requests

from .base import NoticeProvider, OutgoingNotice, ProviderRejected, ProviderUnavailable

_PLACEHOLDER = re.compile(r"\{(to|to_plus|to_local|text|subject|id|ref)\}")
#: Answers that mean "not now" rather than "never": timeouts, throttling, a bad or expired
#: token (the office fixes its configuration; the notices wait), server errors.
RETRY_STATUSES = frozenset({401, 403, 408, 425, 429})


def _values(notice: OutgoingNotice) -> dict[str, str]:
    to = notice.recipient
    return {"to": to, "to_plus": "+" + to, "to_local": "0" + to[2:] if to.startswith("62") else to,
            "text": notice.body, "subject": notice.subject, "id": str(notice.id), "ref": notice.dedupe_key}


def render(template: Any, values: dict[str, str], quote_values: bool = False) -> Any:
    """``template`` (a JSON-like structure) with the placeholders of its strings filled in."""
    if isinstance(template, dict):
        return {k: render(v, values, quote_values) for k, v in template.items()}
    if isinstance(template, list):
        return [render(v, values, quote_values) for v in template]
    if isinstance(template, str):
        return _PLACEHOLDER.sub(lambda m: quote(values[m[1]], safe="") if quote_values else values[m[1]], template)
    return template


def dig(data: Any, path: str) -> Any:
    """The value at a dotted ``path`` ("data.id", "messages.0.id") in ``data``, or None."""
    for part in path.split("."):
        if isinstance(data, dict):
            data = data.get(part)
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return None
    return data


class HttpGatewayProvider(NoticeProvider):
    """One HTTP request per notice, as configured (see the module docstring).

    ``method``: POST (default) or GET (the body then goes in the query string);
    ``body_format``: "json" (default) or "form"; ``headers``: extra headers; ``token``:
    sent as ``Authorization: Bearer <token>`` (use ``headers`` for other schemes);
    ``success_codes``: HTTP statuses that mean accepted (default 200, 201, 202);
    ``message_id_path``: where the gateway's message id is in a JSON answer;
    ``ok_path``/``ok_values``: for gateways that answer 200 with {"status": false}: the
    message is accepted only when the value at ``ok_path`` is one of ``ok_values``; such a
    refusal is retried unless ``body_failure`` is "reject".

    Connection errors, timeouts and the statuses in ``RETRY_STATUSES`` or 5xx are
    retried (ProviderUnavailable); any other 4xx is permanent (ProviderRejected).
    """

    kind = "http"

    def __init__(
        self, *, url: str, method: str = "POST", headers: dict | None = None, token: str | None = None,
        body: Any = None, body_format: str = "json", success_codes: list[int] | tuple[int, ...] = (200, 201, 202),
        message_id_path: str | None = None, ok_path: str | None = None, ok_values: list | None = None,
        body_failure: str = "retry", timeout: float = 10.0, verify: bool | str = True,
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError("http: url must start with http:// or https://")
        if method.upper() not in ("POST", "GET", "PUT"):
            raise ValueError("http: method must be POST, GET or PUT")
        if body_format not in ("json", "form"):
            raise ValueError('http: body_format must be "json" or "form"')
        if body_failure not in ("retry", "reject"):
            raise ValueError('http: body_failure must be "retry" or "reject"')
        self.url, self.method, self.body_format = url, method.upper(), body_format
        self.headers = dict(headers or {})
        self._token = token
        self.body = body if body is not None else {"to": "{to}", "text": "{text}"}
        self.success_codes = frozenset(int(c) for c in success_codes)
        self.message_id_path, self.ok_path = message_id_path, ok_path
        self.ok_values = list(ok_values) if ok_values is not None else [True]
        self.body_failure, self.timeout, self.verify = body_failure, float(timeout), verify

    def __repr__(self) -> str:  # never the token
        return f"HttpGatewayProvider({self.method} {self.url})"

    def request_args(self, notice: OutgoingNotice) -> dict:
        """The keyword arguments of ``requests.request`` for ``notice``."""
        values = _values(notice)
        headers = render(self.headers, values)
        if self._token:
            headers.setdefault("Authorization", f"Bearer {self._token}")
        body = render(self.body, values)
        args = {"method": self.method, "url": render(self.url, values, quote_values=True), "headers": headers,
                "timeout": self.timeout, "verify": self.verify, "allow_redirects": False}
        if self.method == "GET":
            args["params"] = body
        elif self.body_format == "json":
            args["json"] = body
        else:
            args["data"] = body
        return args

    def send(self, notice: OutgoingNotice) -> str | None:
        args = self.request_args(notice)
        try:
            response = requests.request(**args)
        except requests.RequestException as e:
            raise ProviderUnavailable(f"gateway unreachable: {type(e).__name__}: {e}"[:250]) from None
        code, text = response.status_code, " ".join(response.text.split())[:200]
        if code not in self.success_codes:
            retry = code in RETRY_STATUSES or code >= 500 or not 400 <= code < 500
            raise (ProviderUnavailable if retry else ProviderRejected)(f"HTTP {code}: {text}")
        if not (self.ok_path or self.message_id_path):
            return None
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if self.ok_path and dig(answer, self.ok_path) not in self.ok_values:
            raise (ProviderRejected if self.body_failure == "reject" else ProviderUnavailable)(
                f"gateway refused: HTTP {code}: {text}")
        message_id = dig(answer, self.message_id_path) if self.message_id_path else None
        return None if message_id is None else str(message_id)[:200]
