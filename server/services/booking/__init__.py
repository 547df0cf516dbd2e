"""Online queue booking and kiosk check-in (issue 6): the office's rules
(:mod:`.settings`), places per session never oversold (:mod:`.capacity`), booking and
cancelling (:mod:`.bookings`), the public views (:mod:`.views`). Import the submodules."""
