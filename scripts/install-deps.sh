#!/usr/bin/env bash
# Install the Debian 12 packages zmesh needs to build, test and demo, if any are missing.
# Runs apt-get as root (or through sudo). Prints what it installs; silent when nothing is.
set -euo pipefail
packages=(build-essential cmake pkg-config libzmq3-dev libczmq-dev libmsgpack-dev
          libsodium-dev libcmocka-dev clang libclang-rt-14-dev clang-format jq iproute2
          procps psmisc)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "install-deps: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install ${missing[*]}" >&2; exit 1; }
    sudo=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
