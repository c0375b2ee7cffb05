#!/usr/bin/env bash
# tools/deps.sh — installs the Debian packages kmm's scripts need, only those
# missing, so that ./test.sh and ./run.sh work on a fresh Debian 12 machine.
# Usage: tools/deps.sh pkg...   (idempotent; needs root or sudo for installs)
set -euo pipefail
missing=()
for pkg in "$@"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
