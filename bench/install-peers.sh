#!/bin/sh
# Installs the peer tools the benchmark compares against (Debian packages), only when missing.
# Runs `apt-get update` at most once per call; needs root (or passwordless sudo).
set -eu

missing=""
command -v wrk >/dev/null 2>&1 || missing="$missing wrk"
command -v prometheus-blackbox-exporter >/dev/null 2>&1 || missing="$missing prometheus-blackbox-exporter"

if [ -z "$missing" ]; then
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  SUDO="sudo -n"
else
  echo "install-peers: missing$missing and not root; install them with apt-get" >&2
  exit 1
fi

echo "install-peers: installing$missing" >&2
$SUDO apt-get update -qq >&2
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >&2
# The package starts a system service on 9115; the benchmark runs its own exporter instead.
if command -v systemctl >/dev/null 2>&1; then
  $SUDO systemctl disable --now prometheus-blackbox-exporter >/dev/null 2>&1 || true
fi
