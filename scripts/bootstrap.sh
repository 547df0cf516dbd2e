#!/usr/bin/env bash
# Create .venv (with python3, or $PYTHON) if missing and install Loket editable with its
# extras ($EXTRAS, default "test"). The extras (pyproject.toml) match the machines: the core
# is the server ("server" names it), "station" adds the device libraries (OpenCV, zxing-cpp,
# pyzbar, pyserial, python-escpos), "demo" is server + station (scripts/demo.sh), "test" is
# server + station + the test tools; the test command adds "smartcard", which builds pyscard
# and needs swig + libpcsclite-dev from system-deps.sh. Idempotent and fast: skipped while
# .venv/.installed-<extras>-<sha256 of pyproject.toml> exists.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
VENV=.venv

say() { echo "bootstrap: $*"; }

if [ -x "$VENV/bin/python" ] && ! "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1; then
  say "$VENV is broken (its interpreter does not run); recreating"
  rm -rf "$VENV"
fi
if [ ! -x "$VENV/bin/python" ]; then
  command -v "$PYTHON" >/dev/null || { echo "bootstrap: $PYTHON not found" >&2; exit 1; }
  "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' ||
    { echo "bootstrap: Loket needs Python >= 3.11; $PYTHON is $("$PYTHON" -V 2>&1)" >&2; exit 1; }
  say "creating $VENV with $("$PYTHON" -V 2>&1)"
  "$PYTHON" -m venv "$VENV"
fi

EXTRAS="${EXTRAS:-test}"
hash="$(sha256sum pyproject.toml | cut -d' ' -f1)"
stamp="$VENV/.installed-${EXTRAS//,/+}-$hash"
if [ -e "$stamp" ]; then
  say "$VENV up to date"
  exit 0
fi

say "installing loket[$EXTRAS] into $VENV"
PIP_DISABLE_PIP_VERSION_CHECK=1 "$VENV/bin/python" -m pip install -q --no-input -e ".[$EXTRAS]" </dev/null
rm -f "$VENV"/.installed-*
touch "$stamp"
say "done"
