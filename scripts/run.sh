#!/bin/sh
# Start Concord locally:  sh scripts/run.sh [hub serve args]
#
# Needs only Python >= 3.11 with pip and venv: creates ./.venv on first use,
# installs the project there (again only when pyproject.toml has changed since
# the last install) and runs `hub serve`, which initialises the SQLite
# database under ./var/ and serves on http://127.0.0.1:8000.
set -eu

cd "$(dirname "$0")/.."            # the repository root, whatever the caller's cwd

PYTHON=${PYTHON:-python3}          # the interpreter that creates the venv
VENV=.venv
STAMP="$VENV/.concord-installed-base"
TEST_STAMP="$VENV/.concord-installed-test"   # scripts/test.sh's install includes ours

# --- the virtual environment -------------------------------------------------
if [ ! -x "$VENV/bin/python" ]; then
    if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
        echo "scripts/run.sh: need Python >= 3.11 as '$PYTHON' (set PYTHON=/path/to/python3.11)" >&2
        exit 1
    fi
    echo "Creating $VENV with $("$PYTHON" --version 2>&1)"
    rm -rf "$VENV"
    if ! "$PYTHON" -m venv "$VENV"; then
        rm -rf "$VENV"
        echo "scripts/run.sh: '$PYTHON -m venv' failed (on Debian/Ubuntu: apt-get install python3-venv)" >&2
        exit 1
    fi
fi

# --- the project, reinstalled only when pyproject.toml changed ---------------
want=$(cksum < pyproject.toml)
if [ "$(cat "$STAMP" 2>/dev/null || true)" != "$want" ] &&
   [ "$(cat "$TEST_STAMP" 2>/dev/null || true)" != "$want" ]; then
    echo "Installing concord-hub into $VENV (first run or pyproject.toml changed)..."
    rm -f "$VENV"/.concord-installed-*          # every stamp is stale now
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e .
    printf '%s\n' "$want" > "$STAMP"
fi

exec "$VENV/bin/hub" serve "$@"
