#!/usr/bin/env bash
# tools/deps.sh — installs the Debian packages kmm's scripts need, only those
# missing, so that ./test.sh and ./run.sh work on a fresh Debian 12 machine.
# Usage: tools/deps.sh pkg...   (idempotent; needs root or sudo for installs)
set -euo pipefail
missing=()
for pkg in "$@"; do
  # No pipe into grep -q: under pipefail, grep leaving early can hand
  # dpkg-query a SIGPIPE (one status per installed architecture) and an
  # installed package would count as missing.
  status=$(dpkg-query -W -f='${Status}\n' "$pkg" 2>/dev/null) || status="" # not known: missing
  case "$status" in
    *"install ok installed"*) ;;
    *) missing+=("$pkg") ;;
  esac
done
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if ! command -v sudo >/dev/null; then
    echo "deps: ${missing[*]} missing; not root and no sudo: install them as root" \
      "(apt-get install --no-install-recommends ${missing[*]}) or run this as root" >&2
    exit 1
  fi
  SUDO="sudo"
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
