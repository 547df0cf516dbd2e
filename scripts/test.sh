#!/usr/bin/env bash
# The test command: system packages, services, virtualenv, compose-file check, then pytest.
# Usage: bash scripts/test.sh [pytest args...]   e.g. bash scripts/test.sh -m "not browser" -x
# Exit status is pytest's; "no tests collected" (pytest exit 5) counts as a failure.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "test: system packages"
bash scripts/system-deps.sh
echo "test: services"
bash scripts/services.sh
echo "test: virtualenv"
# test = server + station + the test tools (pyproject.toml); smartcard builds pyscard.
EXTRAS=test,smartcard bash scripts/bootstrap.sh

echo "test: docker-compose config"
# docker-compose.yml requires LOKET_SECRET_KEY (${LOKET_SECRET_KEY:?}); any value validates it.
if ! LOKET_SECRET_KEY="${LOKET_SECRET_KEY:-check}" docker-compose -f docker-compose.yml config -q; then
  echo "test: docker-compose.yml is invalid" >&2
  exit 1
fi

export LOKET_TEST_DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:5432/${LOKET_TEST_DB:-loket_test}"
# each xdist worker takes its own database below this one (15, 14, ...: tests/workers.py)
export LOKET_TEST_REDIS_URL="redis://127.0.0.1:6379/15"
export LOKET_TEST_ARTIFACTS="$PWD/test-artifacts"
export PYTHONDONTWRITEBYTECODE=1
mkdir -p "$LOKET_TEST_ARTIFACTS"

echo "test: ruff"
# the lint rules are pyproject.toml's [tool.ruff]: errors that are bugs (pyflakes, bugbear)
if ! .venv/bin/ruff check .; then
  echo "test: FAILED: ruff" >&2
  exit 1
fi

echo "test: mypy"
# the type check of pyproject.toml's [tool.mypy]: server/services/ and drivers/
if ! .venv/bin/mypy; then
  echo "test: FAILED: mypy" >&2
  exit 1
fi

# In parallel: LOKET_TEST_WORKERS pytest-xdist workers (default 4: on 2 cores many tests
# wait on servers and browsers; 0 = in this process), tests of one xdist_group on one worker
# (--dist loadgroup); with coverage (pyproject.toml [tool.coverage]: fail_under). Arguments
# given to this script come last (e.g. -n 0); with -p no:xdist the -n/--dist options are left out.
parallel=(-n "${LOKET_TEST_WORKERS:-4}" --dist loadgroup)
for arg in "$@"; do
  case "$arg" in no:xdist|-pno:xdist) parallel=() ;; esac
done
# the floor is the whole suite's: a run with arguments (some tests) reports coverage only
coverage=(--cov --cov-report=term)
[ "$#" -eq 0 ] || coverage+=(--cov-fail-under=0)
echo "test: pytest ${parallel[*]} ${coverage[*]} $*"
status=0
.venv/bin/python -m pytest "${parallel[@]}" "${coverage[@]}" "$@" </dev/null || status=$?
if [ "$status" -eq 5 ]; then
  echo "test: FAILED: pytest collected no tests" >&2
  exit 1
fi
[ "$status" -eq 0 ] || echo "test: FAILED (pytest exit $status)" >&2
exit "$status"
