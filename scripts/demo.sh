#!/usr/bin/env bash
# The run command: set up .venv and start the demo (SQLite in loket-data/, demo office).
# Usage: bash scripts/demo.sh [loket demo args...]
set -euo pipefail
cd "$(dirname "$0")/.."

# loket[demo] = the server + the station set: `loket demo` runs the kiosk, printer, display
# and activation agents in its own process, on simulated devices that use the station's
# libraries (python-escpos, OpenCV, zxing-cpp). A .venv set up by the test command (test
# includes server + station) would do too, but its stamp names other extras.
EXTRAS="${EXTRAS:-demo}" bash scripts/bootstrap.sh

# Voice calls need espeak-ng; everything else works without it.
if ! command -v espeak-ng >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ]; then
    echo "demo: installing espeak-ng for voice calls"
    bash scripts/system-deps.sh espeak-ng || echo "demo: WARNING: espeak-ng install failed; voice calls will be silent" >&2
  else
    echo "demo: WARNING: espeak-ng is not installed; voice calls will be silent (sudo apt-get install espeak-ng)" >&2
  fi
fi

exec .venv/bin/loket demo "$@"
