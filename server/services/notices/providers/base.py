"""The one interface every notice provider implements, and the errors it may raise."""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass


class ProviderError(Exception):
    """A delivery attempt did not go through; ``str(error)`` says why (kept on the notice)."""


class ProviderUnavailable(ProviderError):
    """Try again later: the provider is down, slow, overloaded or misconfigured."""


class ProviderRejected(ProviderError):
    """Never try this notice again: the provider refused it (bad number or address)."""


@dataclass(frozen=True)
class OutgoingNotice:
    """What a provider gets: a copy of the notice row, so providers never touch the database.

    ``recipient``: an e-mail address, or a phone number in international form without the
    plus (``6281234567890``). ``attempt``: 1 for the first attempt.
    """

    id: int
    channel: str
    recipient: str
    subject: str
    body: str
    dedupe_key: str
    attempt: int


class NoticeProvider(ABC):
    """Sends one notice. Implementations are small and hold no database or Flask object."""

    #: The registry name (``kind`` in the configuration).
    kind: str = ""

    @abstractmethod
    def send(self, notice: OutgoingNotice) -> str | None:
        """Deliver ``notice``; return the provider's message id (None when it gives none).

        Raises ProviderUnavailable (retry later) or ProviderRejected (permanent); nothing else.
        """
