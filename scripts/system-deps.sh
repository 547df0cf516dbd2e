#!/usr/bin/env bash
# Install the Debian packages Loket's tests (and tools) need, only those that are missing.
# Idempotent: a machine that has them all does nothing (no apt-get update).
# Usage: scripts/system-deps.sh            # the whole list below
#        scripts/system-deps.sh PKG...     # only these packages (e.g. espeak-ng for the demo)
set -euo pipefail

# One package per line, with why it is needed.
PACKAGES=(
  chromium        # headless browser for the Playwright tests (marker "browser"); Playwright cannot download its own build here
  espeak-ng       # text-to-speech engine that renders the voice calls ("nomor antrean A-012 ke loket 3")
  sox             # audio tool used to check/convert the generated voice-call WAV files
  socat           # virtual serial ports (pty pairs) standing in for ticket printers and other devices in driver tests
  postgresql      # PostgreSQL server for the tests marked "postgres" (also brings psql, pg_isready, pg_ctlcluster)
  redis-server    # Redis for the tests marked "redis": Socket.IO message queue and shared event sequence (brings redis-cli)
  docker-compose  # validates docker-compose.yml with `docker-compose config` (no Docker engine is needed for that)
  libzbar0        # the zbar library pyzbar loads at run time (QR decoder, drivers/qr)
  pcscd           # the PC/SC daemon the smartcard tests talk to through pyscard
  vsmartcard-vpcd # virtual PC/SC reader driver for pcscd; the test's virtual card connects to it (TEST MACHINES ONLY)
  libpcsclite-dev # headers pyscard builds against (pyscard has no Linux wheel)
  swig            # pyscard's build needs it
  openssl         # the notice tests make a self-signed certificate for STARTTLS
)

export DEBIAN_FRONTEND=noninteractive

if [ "$#" -gt 0 ]; then
  PACKAGES=("$@")
fi

is_installed() {
  [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" = "install ok installed" ]
}

missing=()
for pkg in "${PACKAGES[@]}"; do
  is_installed "$pkg" || missing+=("$pkg")
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "system-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  SUDO=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  SUDO=(sudo -n env DEBIAN_FRONTEND=noninteractive)
else
  echo "system-deps: missing packages: ${missing[*]}" >&2
  echo "system-deps: not root and no passwordless sudo; install them with: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi

echo "system-deps: installing ${missing[*]}"
# Wait for the dpkg lock instead of failing when another apt run is in progress.
APT_OPTS=(-o DPkg::Lock::Timeout=600)
"${SUDO[@]}" apt-get "${APT_OPTS[@]}" update -qq </dev/null
"${SUDO[@]}" apt-get "${APT_OPTS[@]}" install -y -qq --no-install-recommends \
  -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
  "${missing[@]}" </dev/null >/dev/null
for pkg in "${missing[@]}"; do
  is_installed "$pkg" || { echo "system-deps: $pkg failed to install" >&2; exit 1; }
done
echo "system-deps: installed ${missing[*]}"
