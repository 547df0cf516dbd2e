"""Realtime: the one module that emits Socket.IO events (emitter), the socket handlers,
and the full-state snapshots screens load on connect, reconnect or after a gap."""
