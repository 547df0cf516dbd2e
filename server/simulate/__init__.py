"""``loket simulate-day``: replay a realistic office day against a running server.

:mod:`server.simulate.model` draws the day's citizens (pure, seeded);
:mod:`server.simulate.day` plays them through the public REST API and a display socket.
"""
