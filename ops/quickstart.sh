#!/usr/bin/env bash
# keymesh on this one host: etcd, a key authority and three nodes, each node in a network
# namespace of its own with a wireguard-go interface and its own keymesh-daemon.
#
#   sudo ops/quickstart.sh          start it (installs what is missing and builds first)
#   sudo ops/quickstart.sh status   show the mesh again
#   sudo ops/quickstart.sh down     stop it and remove everything it made
#
# Addresses: the switch (etcd, authority) 198.51.100.1, nodes 198.51.100.11-13 on the underlay;
# overlay 198.18.0.0/16. Nothing outside the namespaces is changed.
set -Eeuo pipefail   # -E: the ERR trap below also fires inside functions

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=/var/tmp/keymesh-quickstart
switch=kmqs-switch
nodes=(node-1 node-2 node-3)
etcd_url=http://198.51.100.1:2379
mesh=quickstart

say() { printf '%s\n' "$*"; }
die() { printf 'quickstart: %s\n' "$*" >&2; exit 1; }
ns_of() { echo "kmqs-${1#node-}"; }     # node-1 -> kmqs-1
if_of() { echo "kmqs${1#node-}"; }      # node-1 -> kmqs1 (wireguard-go's socket directory is shared)
export ETCDCTL_API=3                   # etcdctl 3.3 (Ubuntu 22.04) still defaults to the v2 API
keymesh() { ip netns exec "$switch" "$root/ops/bin/keymesh" --endpoints "$etcd_url" --mesh "$mesh" \
              --trust-key "$(cat "$work/authority.pub")" "$@"; }

down() {
  local ns
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep '^kmqs-' || true); do
    ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
  done
  sleep 0.5
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep '^kmqs-' || true); do
    ip netns del "$ns" 2>/dev/null || true
  done
  rm -f /var/run/wireguard/kmqs*.sock
  rm -rf "$work"
}

show_logs() {
  local log
  for log in "$work"/*.log; do [ -f "$log" ] && { say "--- $log"; tail -n 15 "$log"; }; done
}

wait_for() { # wait_for SECONDS WHAT COMMAND...: a dot a second, then fail with the logs
  local limit=$1 what=$2 i
  shift 2
  printf '%s ' "$what"
  for ((i = 0; i < limit * 4; i++)); do
    if "$@" >/dev/null 2>&1; then printf ' ok\n'; return 0; fi
    ((i % 4 == 0)) && printf '.'
    sleep 0.25
  done
  printf ' failed\n'
  die "timed out waiting: $what"
}

status() {
  [ -d "$work" ] || die "not running; start it with: sudo $0"
  say ""
  say "== keymesh nodes"
  keymesh nodes
  for node in "${nodes[@]}"; do
    say ""
    say "== wg show on $node"
    ip netns exec "$(ns_of "$node")" wg show "$(if_of "$node")"
  done
  local to
  to=$(ip -n "$(ns_of node-3)" -j address show dev "$(if_of node-3)" | sed -n 's/.*"local":"\([0-9.]*\)".*/\1/p')
  say ""
  say "== ping from node-1 to node-3 ($to) across the mesh"
  ip netns exec "$(ns_of node-1)" ping -c 3 -i 0.3 "$to"
  say ""
  say "Look around:"
  say "  sudo ip netns exec $switch env ETCDCTL_API=3 etcdctl --endpoints $etcd_url get /keymesh/v1/nodes/ --prefix --keys-only"
  say "  sudo ip netns exec kmqs-1 curl -s 127.0.0.1:9471/peers"
  say "  sudo ip netns exec kmqs-1 bash      # a shell on node-1 (ping 198.18.0.x)"
  say "  docs/etcdctl.md has more."
  say "Stop and remove everything: sudo $0 down"
}

up() {
  if ip netns list 2>/dev/null | grep -q "^$switch\b"; then
    say "already running (sudo $0 down first to start over)"
    status
    return
  fi
  down # what a crashed or rebooted earlier run left (its files; namespaces do not survive a reboot)
  "$root/ops/setup.sh"
  if ! ls "$root"/node-daemon/target/node-daemon-*.jar >/dev/null 2>&1 || ! ls "$root"/key-authority/target/key-authority-*.jar >/dev/null 2>&1; then
    say "building keymesh (mvn -DskipTests package; a minute or two the first time)"
    if [ -n "${SUDO_USER:-}" ] && [ "$SUDO_USER" != root ]; then
      # build as the user who owns the checkout, so no root-owned target/ is left in it
      (cd "$root" && sudo -u "$SUDO_USER" mvn -B -q -ntp -Dstyle.color=never -DskipTests package)
    else
      (cd "$root" && mvn -B -q -ntp -Dstyle.color=never -DskipTests package)
    fi
  fi
  trap 'say ""; say "quickstart: failed; the logs:"; show_logs; say "removing what it made"; down; exit 1' ERR
  mkdir -p "$work" && chmod 700 "$work"

  say "switch: namespace $switch with a bridge at 198.51.100.1"
  ip netns add "$switch"
  ip -n "$switch" link set lo up
  ip -n "$switch" link add br0 type bridge
  ip -n "$switch" address add 198.51.100.1/24 dev br0
  ip -n "$switch" link set br0 up

  say "etcd: $etcd_url (log $work/etcd.log)"
  ip netns exec "$switch" setsid etcd --name qs --data-dir "$work/etcd" --listen-client-urls "$etcd_url" \
      --advertise-client-urls "$etcd_url" --listen-peer-urls http://198.51.100.1:2380 \
      --initial-advertise-peer-urls http://198.51.100.1:2380 --initial-cluster qs=http://198.51.100.1:2380 \
      >"$work/etcd.log" 2>&1 < /dev/null &
  wait_for 30 "waiting for etcd" ip netns exec "$switch" curl -sf "$etcd_url/health"

  "$root/ops/bin/keymesh" keygen authority --out "$work/authority.key" | tee "$work/keygen.txt" | sed 's/^/  /'
  awk '/^public key/ {print $3}' "$work/keygen.txt" > "$work/authority.pub"
  say "authority: keymesh-authority (log $work/authority.log)"
  ip netns exec "$switch" setsid "$root/ops/bin/keymesh-authority" --endpoints "$etcd_url" --mesh "$mesh" \
      --signing-key "$work/authority.key" --overlay-cidr 198.18.0.0/16 --http 198.51.100.1:9470 \
      >"$work/authority.log" 2>&1 < /dev/null &
  wait_for 60 "waiting for the authority" ip netns exec "$switch" curl -sf http://198.51.100.1:9470/readyz

  local n=0 node ns iface
  for node in "${nodes[@]}"; do
    n=$((n + 1)); ns=$(ns_of "$node"); iface=$(if_of "$node")
    say "$node: namespace $ns, underlay 198.51.100.1$n, interface $iface (log $work/$node.log)"
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    ip link add eth0 netns "$ns" type veth peer name "kmqss$n" netns "$switch"   # made in place: nothing in the host's namespace
    ip -n "$ns" address add "198.51.100.1$n/24" dev eth0
    ip -n "$ns" link set eth0 up
    ip -n "$switch" link set "kmqss$n" master br0
    ip -n "$switch" link set "kmqss$n" up
    keymesh token create --node "$node" --out "$work/$node.token" >/dev/null
    ip netns exec "$ns" setsid "$root/ops/bin/keymesh-daemon" --endpoints "$etcd_url" --mesh "$mesh" --node "$node" \
        --trust-key "$(cat "$work/authority.pub")" --state-dir "$work/state-$node" --interface "$iface" \
        --implementation wireguard-go --endpoint "198.51.100.1$n:51820" --join-token-file "$work/$node.token" \
        >"$work/$node.log" 2>&1 < /dev/null &
  done
  all_peered() {
    local node
    for node in "${nodes[@]}"; do
      [ "$(ip netns exec "$(ns_of "$node")" wg show "$(if_of "$node")" peers 2>/dev/null | wc -l)" -eq 2 ] || return 1
    done
  }
  wait_for 90 "waiting for the three nodes to join and peer" all_peered
  trap - ERR
  status
}

[ "$(id -u)" -eq 0 ] || die "needs root for network namespaces: sudo $0 ${1:-}"
case "${1:-up}" in
  up) up ;;
  status) status ;;
  down) down; say "quickstart: stopped; everything it made is removed" ;;
  *) die "usage: $0 [up|status|down]" ;;
esac
