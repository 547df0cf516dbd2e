#!/usr/bin/env bash
# Run every Loket benchmark once and print its figures (see bench/README.md).
#   bash bench/run.sh
# Needs PostgreSQL on 127.0.0.1:5432 (user postgres, no password) and redis-server.
# Each script starts and stops its own servers on free ports of 127.0.0.1; every loop is
# bounded in count and in time.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
[ -x "$PY" ] || PY=python3

bash scripts/bootstrap.sh
if ! "$PY" -c "import aiohttp" 2>/dev/null; then
  echo "bench: installing the bench extra (aiohttp, pinned in pyproject.toml)"
  "$PY" -m pip install -q -e ".[bench]"
fi
pg_isready -q -h 127.0.0.1 -p 5432 || { echo "bench: PostgreSQL is not answering on 127.0.0.1:5432" >&2; exit 1; }
command -v redis-server >/dev/null || [ -x /usr/bin/redis-server ] || { echo "bench: redis-server not found" >&2; exit 1; }

echo "bench: ticket issue rate, SQLite (loket demo)"
timeout 300 "$PY" bench/issue_rate.py sqlite "$@"
echo "bench: ticket issue rate, PostgreSQL (loket serve --workers 4)"
timeout 300 "$PY" bench/issue_rate.py postgres "$@"
echo "bench: booking opening burst, 2000 citizens (loket serve --workers 4, PostgreSQL, Redis): rate, p99, oversold places"
timeout 300 "$PY" bench/booking_rate.py
echo "bench: call -> TV latency, 500 TVs per app (loket serve --workers 4 side by side with a bare Flask-SocketIO app)"
timeout 600 "$PY" bench/call_latency.py
echo "bench: a busy office, 30 counters calling for 2 min, 500 TVs on the TV page's logic, Redis restarted halfway"
timeout 900 "$PY" bench/busy_office.py
echo "bench: print job -> bytes at the printer (loket demo + kiosk agent on tcp:// to the ESC/POS simulator)"
timeout 300 "$PY" bench/print_latency.py
echo "bench: QR decode time per frame and decode rate, zxing-cpp vs pyzbar (generated frame set)"
timeout 600 "$PY" bench/qr_decode.py
echo "bench: card insert -> UID event latency (private pcscd + vpcd + virtual card; TEST MACHINES ONLY)"
"$PY" -c "import smartcard" 2>/dev/null || "$PY" -m pip install -q -e ".[smartcard]"
timeout 300 "$PY" bench/card_latency.py
echo "bench: card tap -> activation officer page has the match (private pcscd + vpcd + virtual card, agent, staff Socket.IO; TEST MACHINES ONLY)"
timeout 300 "$PY" bench/activation_latency.py
echo "bench: managers' dashboard snapshot on a busy office day (1500 tickets, 3000 open files), PostgreSQL"
timeout 300 "$PY" bench/dashboard_snapshot.py postgres
echo "bench: waiting-time report over one year of one busy office (~400,000 tickets), PostgreSQL"
timeout 900 "$PY" bench/report_waiting.py
echo "bench: Drive-Thru scan -> station screen latency, camera 1280x720 (pickup agent on a video file + Chromium)"; timeout 600 "$PY" bench/scan_latency.py
