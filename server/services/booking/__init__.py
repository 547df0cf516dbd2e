"""Online queue booking and kiosk check-in (issue 6): the office's rules
(:mod:`.settings`), places per session never oversold (:mod:`.capacity`), booking and
cancelling (:mod:`.bookings`), the public views (:mod:`.views`); issue 13: booking in two
steps bound to a confirmed contact (:mod:`.requests`, :mod:`.contacts`). Import the
submodules."""
