#!/usr/bin/env bash
# Install Debian packages the tests need unless the program is already there:
#   tools/ensure-debian.sh PATH PACKAGE...   (PATH: the program or file the package installs)
# Used for Chromium (Playwright cannot download its own browser here) and nginx (the deploy test).
set -euo pipefail
program=$1; shift
if [ -e "$program" ]; then exit 0; fi
if [ "$(id -u)" = 0 ]; then
  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@"
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
  sudo apt-get update -q && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@"
else
  echo "The tests need $program: run 'sudo apt-get install $*'." >&2
  exit 1
fi
