"""Drive-Thru pickup station and KTP-el activation counter (later issues)."""
