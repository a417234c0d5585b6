#!/bin/sh
# Quality gates, as CI runs them:  sh scripts/lint.sh
#
# ruff (lint rules and formatting, configured in pyproject.toml) over the code and the tests,
# mypy over the product (hub/ and connectors/). Uses ./.venv (made by scripts/test.sh) and
# installs the dev extra's pinned ruff/mypy there when they are missing.
set -eu

cd "$(dirname "$0")/.."            # the repository root

VENV=.venv
if [ ! -x "$VENV/bin/python" ]; then
    echo "scripts/lint.sh: no $VENV yet: run sh scripts/test.sh once first" >&2
    exit 1
fi
if ! "$VENV/bin/python" -c 'import ruff, mypy' 2>/dev/null; then
    echo "Installing the dev tools (ruff, mypy, type stubs) into $VENV..."
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e ".[dev]"
fi

status=0
echo "ruff check";           "$VENV/bin/ruff" check hub connectors simulators tests || status=1
echo "ruff format --check";  "$VENV/bin/ruff" format --check hub connectors simulators tests || status=1
echo "mypy hub connectors";  "$VENV/bin/mypy" hub connectors || status=1
exit "$status"
