#!/usr/bin/env sh
# Put Booth in the desktop menu of the current user, launching this checkout.
# Usage: sh packaging/install-desktop-entry.sh   (after `python3 packaging/bootstrap.py run` once)
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd)
apps="${XDG_DATA_HOME:-$HOME/.local/share}/applications"
icons="${XDG_DATA_HOME:-$HOME/.local/share}/icons/hicolor/scalable/apps"
mkdir -p "$apps" "$icons"
cp "$repo/resources/booth.svg" "$icons/booth.svg"
sed "s|^Exec=booth|Exec=$repo/.venv/bin/booth|" "$repo/packaging/booth.desktop" > "$apps/booth.desktop"
command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database "$apps" || true
echo "Booth is in the menu: $apps/booth.desktop"
