"""KTP-el activation station: the agent of the activation counter PC, which reports card
taps (UID and ATR) on its PC/SC contactless reader to the server (``activation.agent``,
``loket agent activation``; installer's notes in ``activation/README.md``)."""
