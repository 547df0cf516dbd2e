"""Where to go after sign-in: ``?next=`` only ever leads to a path of this site (issue 13)."""
from __future__ import annotations

from urllib.parse import unquote, urlsplit

from flask import url_for

MAX_LENGTH = 2000


def is_local_path(target: str) -> bool:
    """True when ``target`` is an absolute path of this site that no browser can read as
    another site, in any of its forms: the text as given and its percent-decoded forms
    (decoded up to 3 times, so ``%252F%252F`` is seen as ``//``) must each start with one
    "/" and not "//", and contain no backslash (browsers read ``/\\`` as ``//``), no
    control or other non-printable character (tab, CR, LF, NUL, U+2028 ...; browsers drop
    some of them, which can turn ``/<TAB>/host`` into ``//host``), no scheme and no host.
    Never raises."""
    if not isinstance(target, str) or not target or len(target) > MAX_LENGTH:
        return False
    forms = [target]
    for _ in range(3):
        decoded = unquote(forms[-1])
        if decoded == forms[-1]:
            break
        forms.append(decoded)
    for form in forms:
        if not form.startswith("/") or form.startswith("//"):
            return False
        if "\\" in form or any(not ch.isprintable() for ch in form):
            return False
        try:
            parts = urlsplit(form)
        except ValueError:
            return False
        if parts.scheme or parts.netloc:
            return False
    return True


def safe_next(target: str | None) -> str:
    """``target`` when :func:`is_local_path` accepts it, else the home page's path."""
    if target is not None and is_local_path(target):
        return target
    return url_for("web.home")
