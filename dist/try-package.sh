#!/usr/bin/env bash
# Tries the Debian package in a clean Debian root, as root: install (with its dependencies from the
# distribution), upgrade to a newer version, remove, purge and reinstall, checking at each step that
# the programs run and that the host's keys and state survive.
#   dist/try-package.sh ROOT|--temporary [DEB]
# ROOT: an empty directory to debootstrap bookworm into, or a root made by an earlier run (it is
# used as it is, so give a fresh one for a clean trial). --temporary: a new root under /var/tmp,
# removed at the end (how mvn verify runs it). DEB: default dist/target/keymesh_*_all.deb.
# Nothing outside ROOT changes; /proc is mounted in it while it runs.
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: try-package.sh ROOT|--temporary [DEB]" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "try-package.sh: run as root (it uses chroot)" >&2; exit 1; }
step() { printf '\n== %s\n' "$*"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
mounted=0 temporary=0 work= root=
cleanup() {
  [ -z "$work" ] || rm -rf "$work"
  [ -n "$root" ] || return 0
  if [ "$mounted" = 1 ]; then
    umount "$root/proc" 2>/dev/null || true
  fi
  if [ "$temporary" = 1 ] && [ -z "$(findmnt -rn -o TARGET | grep -F "$root" || true)" ]; then
    rm -rf --one-file-system "$root"
  fi
}
trap cleanup EXIT
if [ "$1" = "--temporary" ]; then
  root=$(mktemp -d /var/tmp/keymesh-package-root.XXXXXX)
  temporary=1
else
  root=$(readlink -f "$1")
fi
[ "$root" != / ] || fail "ROOT must not be /"
here=$(cd "$(dirname "$0")" && pwd)
deb=${2:-$(ls -t "$here"/target/keymesh_*_all.deb | head -n 1)}  # the newest build
in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive "$@"; }
apt_in_root() { # apt-get, its output shown only when it fails
  local log status=0
  log=$(mktemp)
  in_root apt-get -y -q -o Dpkg::Use-Pty=0 --no-install-recommends "$@" >"$log" 2>&1 || status=$?
  if [ "$status" != 0 ]; then
    cat "$log" >&2
    rm -f "$log"
    fail "apt-get $* exited $status"
  fi
  rm -f "$log"
}

if [ ! -x "$root/bin/sh" ]; then
  step "debootstrap bookworm (minbase) into $root"
  command -v debootstrap >/dev/null || fail "debootstrap is not installed (ops/setup.sh installs it)"
  debootstrap --variant=minbase bookworm "$root" >/dev/null # debootstrap's default mirror: none named here
fi
if ! mountpoint -q "$root/proc"; then
  mount -t proc proc "$root/proc"
  mounted=1
fi

version=$(dpkg-deb -f "$deb" Version)
newer="$version+upgrade1"
work=$(mktemp -d)
dpkg-deb -R "$deb" "$work/pkg"
sed -i "s/^Version: .*/Version: $newer/" "$work/pkg/DEBIAN/control"
dpkg-deb --root-owner-group --build "$work/pkg" "$root/tmp/keymesh-new.deb" >/dev/null
cp "$deb" "$root/tmp/keymesh-old.deb"

state() { (cd "$root" && sha256sum var/lib/keymesh/* etc/keymesh/authority.key); }

step "install $version with its dependencies"
apt_in_root update
apt_in_root install /tmp/keymesh-old.deb
[ "$(in_root dpkg-query -W -f '${Version}' keymesh)" = "$version" ] || fail "version after install"
in_root keymesh --version
in_root keymesh-authority --version >/dev/null
in_root keymesh-daemon --version >/dev/null
[ -f "$root/lib/systemd/system/keymesh-daemon.service" ] && [ -f "$root/usr/share/doc/keymesh/examples/daemon.yaml" ] || fail "units or examples missing"
[ "$(stat -c %a "$root/var/lib/keymesh")" = 700 ] || fail "/var/lib/keymesh is not 0700"
in_root keymesh keygen authority --out /etc/keymesh/authority.key
identity=$(in_root keymesh-daemon --print-identity --state-dir /var/lib/keymesh)
echo "host identity $identity"
before=$(state)

step "upgrade to $newer"
apt_in_root install /tmp/keymesh-new.deb
[ "$(in_root dpkg-query -W -f '${Version}' keymesh)" = "$newer" ] || fail "version after upgrade"
[ "$(state)" = "$before" ] || fail "keys changed by the upgrade"
[ "$(in_root keymesh-daemon --print-identity --state-dir /var/lib/keymesh)" = "$identity" ] || fail "identity changed by the upgrade"
echo "keys and identity unchanged"

step "remove"
apt_in_root remove keymesh
[ ! -e "$root/usr/bin/keymesh" ] && [ ! -L "$root/usr/bin/keymesh" ] && [ ! -e "$root/usr/lib/keymesh" ] || fail "programs left after remove"
[ "$(state)" = "$before" ] || fail "keys changed by remove"
echo "programs gone, keys kept"

step "purge"
in_root dpkg --purge keymesh
[ "$(state)" = "$before" ] || fail "keys changed by purge"
[ -z "$(in_root dpkg-query -W -f '${Status}' keymesh 2>/dev/null || true)" ] || fail "package still known after purge"
echo "package gone, keys kept"

step "reinstall $newer"
apt_in_root install /tmp/keymesh-new.deb
[ "$(in_root keymesh-daemon --print-identity --state-dir /var/lib/keymesh)" = "$identity" ] || fail "identity lost over remove and reinstall"
echo "same identity after reinstall"
printf '\nPASS: install, upgrade, remove, purge and reinstall in %s\n' "$root"
