#!/usr/bin/env bash
# System libraries the Qt wheels (PyQt6) need on Linux, offscreen and under X11,
# promtool (Debian package prometheus) for the alert-rule tests in deploy/prometheus/,
# and the document tests' reference tools (pdftotext, qpdf).
# Installs only what is missing, with apt-get, when running as root (or with sudo);
# otherwise prints the command to run. Used by the Makefile's set-up.
set -euo pipefail

[ "$(uname -s)" = "Linux" ] || exit 0
command -v apt-get >/dev/null 2>&1 || { echo "system-deps: no apt-get; install Qt's runtime libraries (fontconfig, xkbcommon, EGL, GL, xcb-cursor) by hand if the window does not start"; exit 0; }

# library file -> Debian package
declare -A NEED=(
  [libfontconfig.so.1]=libfontconfig1
  [libfreetype.so.6]=libfreetype6
  [libxkbcommon.so.0]=libxkbcommon0
  [libxkbcommon-x11.so.0]=libxkbcommon-x11-0
  [libEGL.so.1]=libegl1
  [libGL.so.1]=libgl1
  [libglib-2.0.so.0]=libglib2.0-0
  [libdbus-1.so.3]=libdbus-1-3
  [libxcb-cursor.so.0]=libxcb-cursor0
  [libxcb-icccm.so.4]=libxcb-icccm4
  [libxcb-keysyms.so.1]=libxcb-keysyms1
  [libxcb-shape.so.0]=libxcb-shape0
  [libxcb-image.so.0]=libxcb-image0
  [libxcb-render-util.so.0]=libxcb-render-util0
  [libxcb-randr.so.0]=libxcb-randr0
  [libxcb-xinerama.so.0]=libxcb-xinerama0
  [libxcb-xkb.so.1]=libxcb-xkb1
  [libX11-xcb.so.1]=libx11-xcb1
)
missing=()
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
# Test-time tools for reading documents, never imported or shipped: pdftotext
# (poppler-utils, GPL) is the reference PDF reader of the tests and `python -m bench
# extract`; qpdf (Apache-2.0) encrypts the password-protected sample PDF.
command -v pdftotext >/dev/null 2>&1 || missing+=(poppler-utils)
command -v qpdf >/dev/null 2>&1 || missing+=(qpdf)
cache=$(ldconfig -p 2>/dev/null || true)
for lib in "${!NEED[@]}"; do
  grep -q "$lib" <<<"$cache" || missing+=("${NEED[$lib]}")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then SUDO=""; elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo"; else
  echo "system-deps: Qt and the alert tests need these packages: ${missing[*]}"
  echo "system-deps: run: sudo apt-get install -y ${missing[*]}"
  exit 0
fi
echo "system-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
