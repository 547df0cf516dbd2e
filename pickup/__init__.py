"""Drive-Thru / counter pickup station: the agent reading ticket QR codes (camera, scanner).
The KTP-el activation counter has its own package, ``activation``."""
