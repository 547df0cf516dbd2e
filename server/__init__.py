"""Loket server. ``create_app`` is the app factory (see ``server.app``).

This module imports nothing heavy, so ``loket demo`` can apply gevent's monkey patch
before Flask, Redis or SSL are imported.
"""
from __future__ import annotations


def create_app(config=None, **overrides):
    """Build the Flask app: see :func:`server.app.create_app`."""
    from .app import create_app as factory

    return factory(config, **overrides)
