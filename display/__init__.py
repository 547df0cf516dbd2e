"""Waiting-room TV display: the spoken Indonesian queue call (``display.voice``)."""
