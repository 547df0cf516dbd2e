"""Touchscreen ticket kiosk: its page (web.py) and the agent that owns the printer (agent.py)."""
