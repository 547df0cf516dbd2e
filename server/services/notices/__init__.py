"""Notices to citizens (issue 4): WhatsApp first, then SMS, then e-mail, through an outbox.

- ``providers``: the one interface (``NoticeProvider.send``), SMTP and HTTP gateway
  providers, the registry built from configuration;
- ``texts``: the Bahasa Indonesia texts (resi number, pickup or correction instructions);
- ``outbox``: queueing (deduplicated) and delivery with retries, backoff and give-up;
- ``status``: delivery state for staff (recipients masked for the kartu kendali);
- ``subscriber``: which application changes send a notice, and the event subscriber;
- ``loop``: the background delivery loop.
"""
from .outbox import (
    GIVE_UP_AFTER, LEASE, choose_channel, deliver_due, msisdn, queue_application_notice, queue_notice, retry_delay,
)
from .providers import (
    HttpGatewayProvider, NoticeConfigError, NoticeProvider, OutgoingNotice, ProviderError, ProviderRejected,
    ProviderUnavailable, SmtpProvider, providers_from_config, register_provider_kind,
)
from .status import application_notices, latest_notices, mask_recipient, notice_status
from .subscriber import application_event_subscriber, notice_kind, on_application_changed
from .texts import application_notice_text

__all__ = [
    "GIVE_UP_AFTER", "HttpGatewayProvider", "LEASE", "NoticeConfigError", "NoticeProvider", "OutgoingNotice",
    "ProviderError", "ProviderRejected", "ProviderUnavailable", "SmtpProvider", "application_event_subscriber",
    "application_notice_text", "application_notices", "choose_channel", "deliver_due", "latest_notices",
    "mask_recipient", "msisdn", "notice_kind", "notice_status", "on_application_changed", "providers_from_config",
    "queue_application_notice", "queue_notice", "register_provider_kind", "retry_delay",
]
