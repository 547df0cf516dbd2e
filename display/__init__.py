"""Waiting-room TV display: the TV page's agent and devices (the spoken Indonesian queue call
is rendered on the server: ``server.services.voice``)."""
