#!/usr/bin/env bash
# Install Veriserve into ./.venv on a fresh machine: Debian packages (when run as root), then the
# Python packages (torch 2.14.1 / torchvision 0.29.1 come from the local wheel cache) and the project.
#   bash scripts/install.sh          # the platform
#   bash scripts/install.sh --dev    # the platform + test tools and the optional backends the tests exercise
set -euo pipefail
cd "$(dirname "$0")/.."

EXTRAS=""
for arg in "$@"; do
  case "$arg" in
    --dev) EXTRAS="[dev]" ;;
    *) echo "unknown option: $arg" >&2; exit 2 ;;
  esac
done

# Shared libraries that opencv-python (pulled in by insightface) and dlib load at import time, and the
# CJK fonts the synthetic document renderer (OCR evaluation and tests) draws with.
APT_PACKAGES=(libgl1 libglib2.0-0 libgomp1 fonts-wqy-zenhei fonts-noto-cjk openssl)
# tests: the workflow suite also runs against a throw-away PostgreSQL server
if [ "$EXTRAS" = "[dev]" ]; then APT_PACKAGES+=(postgresql); fi
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "==> apt-get install ${missing[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "warning: Debian packages missing (${missing[*]}); run as root or install them yourself" >&2
  fi
fi

PY="${PYTHON:-python3}"
if ! "$PY" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)'; then
  echo "Veriserve needs Python 3.11 (found: $("$PY" --version 2>&1)); set PYTHON=/path/to/python3.11" >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv"
  "$PY" -m venv .venv
fi
# pip, with this machine's noisy "Location ... is ignored" lines filtered out; keeps pip's exit code.
pipq() {
  set +e
  .venv/bin/python -m pip "$@" 2>&1 | grep -v "^WARNING: Location"
  local rc=${PIPESTATUS[0]}
  set -e
  return "$rc"
}
echo "==> pip install -e .${EXTRAS} (a few minutes on first run)"
pipq install -q --upgrade pip
pipq install -q -e ".${EXTRAS}"
.venv/bin/python -c "import models.registry, serving.cli" || { echo "install failed" >&2; exit 1; }
if [ "$EXTRAS" = "[dev]" ]; then
  # PaddleOCR 3.7 pins numpy<2.4 and opencv-contrib 4.10, so it lives in an environment of its own; the
  # tests run our ocr-paddle model there on the bundled ONNX models (engine=onnxruntime, no paddlepaddle).
  if [ ! -x .venv-paddle/bin/python ]; then
    echo "==> creating .venv-paddle (PaddleOCR 3.7 for the ocr-paddle tests)"
    "$PY" -m venv .venv-paddle
  fi
  set +e
  .venv-paddle/bin/python -m pip install -q "paddleocr==3.7.0" onnxruntime cryptography pydantic pyyaml 2>&1 \
    | grep -v "^WARNING: Location"
  rc=${PIPESTATUS[0]}
  set -e
  [ "$rc" = 0 ] || { echo "installing PaddleOCR into .venv-paddle failed" >&2; exit 1; }
fi
mkdir -p var
echo "==> installed: $(.venv/bin/veriserve --help >/dev/null && echo veriserve CLI ready)"
