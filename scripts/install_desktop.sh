#!/usr/bin/env bash
# Install a .desktop entry and the icon for the current user. The entry launches the
# bundle (dist/Helios/Helios) when it is built, else the .venv entry point; it declares
# the folder mime type so "Open with Helios" appears on folders in a file manager.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -x dist/Helios/Helios ]; then exe="$PWD/dist/Helios/Helios"
elif [ -x .venv/bin/helios ]; then exe="$PWD/.venv/bin/helios"
else echo "nothing to launch yet: run 'make bundle' or 'make venv' first"; exit 1; fi
data="${XDG_DATA_HOME:-$HOME/.local/share}"
mkdir -p "$data/applications" "$data/icons/hicolor/scalable/apps"
sed "s|@EXEC@|\"$exe\"|" resources/helios.desktop.in > "$data/applications/helios.desktop"
cp resources/helios.svg "$data/icons/hicolor/scalable/apps/helios.svg"
command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database "$data/applications" || true
command -v gtk-update-icon-cache >/dev/null 2>&1 && gtk-update-icon-cache -q "$data/icons/hicolor" 2>/dev/null || true
echo "installed $data/applications/helios.desktop (launches $exe)"
