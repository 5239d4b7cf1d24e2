#!/usr/bin/env bash
# Installs what keymesh's build, tests and programs need on a Debian or Ubuntu host, from the
# distribution's packages. Idempotent: when everything is present it only checks and exits.
# Run as root, or as a user with sudo.
set -euo pipefail

# The real parts the tests use: etcd and etcdctl, WireGuard's tools and userspace implementation,
# the network tools for namespaces and reachability checks, nft (host mode's MSS clamp), and
# systemd-analyze (the units' check), and debootstrap (the package is tried in a clean Debian root).
packages=(etcd-server etcd-client wireguard-tools wireguard-go iproute2 iputils-ping procps curl tcpdump nftables systemd debootstrap)

# The build itself: a JDK 17 or newer and Maven, unless the host already has them.
java_major() {
  command -v java >/dev/null 2>&1 || { echo 0; return; }
  java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n 1
}
if [ "$(java_major)" -lt 17 ] 2>/dev/null || ! command -v javac >/dev/null 2>&1; then
  packages+=(openjdk-17-jdk-headless)
fi
command -v mvn >/dev/null 2>&1 || packages+=(maven)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all needed packages are installed"
  exit 0
fi

as_root=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "setup: need root to install: ${missing[*]} (run as root or install sudo)" >&2; exit 1; }
  as_root=(sudo)
fi

echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -q
"${as_root[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
echo "setup: done"
