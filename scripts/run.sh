#!/bin/sh
# Start Concord locally:
#   sh scripts/run.sh                 the demo: `hub demo` (a real Tryton ERP, the SOAP legacy
#                                     CRM and the finance system, seeded, synced, served on :8000)
#   sh scripts/run.sh demo --port N   the same on another port
#   sh scripts/run.sh serve [args]    just the hub: `hub serve` on ./var/hub.db, no systems
#   sh scripts/run.sh COMMAND ...     any other `hub` command
#
# Needs only Python >= 3.11 with pip and venv: creates ./.venv on first use,
# installs the project with its `demo` extra (Tryton) there (again only when
# pyproject.toml has changed since the last install) and runs the command.
set -eu

cd "$(dirname "$0")/.."            # the repository root, whatever the caller's cwd

PYTHON=${PYTHON:-python3}          # the interpreter that creates the venv
VENV=.venv
STAMP="$VENV/.concord-installed-demo"
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
    echo "Installing concord-hub[demo] into $VENV (first run or pyproject.toml changed)..."
    rm -f "$VENV"/.concord-installed-*          # every stamp is stale now
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e ".[demo]"
    printf '%s\n' "$want" > "$STAMP"
fi

[ $# -gt 0 ] || set -- demo
exec "$VENV/bin/hub" "$@"
