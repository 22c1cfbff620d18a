#!/bin/bash
# Installs the Debian 12 packages vigil needs, only those missing. With nothing
# missing it touches no network, so a second run starts at once.
#   scripts/deps.sh          build dependencies
#   scripts/deps.sh --test   build and test dependencies
set -euo pipefail

# libsystemd-dev for its header only: journal checks load libsystemd at run time.
packages=(cmake g++ ninja-build pkg-config libuv1-dev nlohmann-json3-dev
          libcurl4-openssl-dev libinih-dev libpcre2-dev zlib1g-dev libsystemd-dev)
if [[ "${1:-}" == "--test" ]]; then
  packages+=(catch2 python3 openssl systemd prometheus-alertmanager
             prometheus-blackbox-exporter procps util-linux clang-format dpkg-dev file
             systemd-journal-remote buildah debootstrap python3-yaml)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg -s "$p" >/dev/null 2>&1; then
    missing+=("$p")
  fi
done
if (( ${#missing[@]} > 0 )); then
  echo "installing: ${missing[*]}" >&2
  sudo=""
  if [[ $(id -u) -ne 0 ]]; then
    sudo="sudo"
  fi
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends "${missing[@]}"
fi
