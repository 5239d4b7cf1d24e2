#!/usr/bin/env bash
# Creates the etcd users and roles keymesh's programs run with, each with the least it needs.
# etcdctl takes the cluster and root's credentials from the environment (ETCDCTL_ENDPOINTS,
# ETCDCTL_CACERT, ETCDCTL_CERT, ETCDCTL_KEY, or ETCDCTL_USER once root has a password).
# Passwords are read from files (one line, no white space), never from the command line; a
# PASSWORD_FILE of '-' makes a user without a password, who authenticates by the common name of
# its client certificate alone (recommended with etcd 3.4, which keeps a new user's password in
# plain text in its raft log).
# Safe to run again: existing roles are re-granted, existing users get the password from the file
# (with '-', an existing user keeps whatever password it has). Role names do not carry the prefix:
# for a second mesh (or prefix) in the same etcd, revoke the old prefix's grants from the roles.
# See docs/etcd-security.md.
set -euo pipefail
shopt -s inherit_errexit # a failing etcdctl inside $(...) stops the script too

prefix=/keymesh/v1
usage() {
  cat >&2 <<'USAGE'
usage: etcd-access.sh [--prefix /keymesh/v1] COMMAND ...
  enable-auth                          add user 'root' (client certificate with CN=root only, no password)
                                       with the root role, then turn etcd's authentication on
  (PASSWORD_FILE '-': no password, the client certificate's CN=USER alone authenticates)
  authority USER PASSWORD_FILE         keymesh-authority: read and write everything under the prefix
  operator USER PASSWORD_FILE          the keymesh CLI: read everything, write tokens/ and requests/
  node NODE USER PASSWORD_FILE         keymesh-daemon on NODE: read nodes/ and config, read its own
                                       enroll-results/NODE, readwrite its own enroll/NODE and status/NODE
  print-roles [NODE]                   print the roles' permissions (for review) without changing etcd
USAGE
  exit 2
}

if [ "${1:-}" = "--prefix" ]; then
  [ $# -ge 2 ] || usage
  prefix=$2
  shift 2
fi
[[ "$prefix" =~ ^(/[A-Za-z0-9._-]+)+$ ]] || { echo "etcd-access.sh: invalid prefix '$prefix'" >&2; exit 2; }
[ $# -ge 1 ] || usage
command=$1
shift

export ETCDCTL_API=3
node_name_ok() { [[ "$1" =~ ^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$ ]]; }

# The permissions of each role, one "TYPE KEY [--prefix]" per line.
permissions() {
  case "$1" in
    authority) echo "readwrite $prefix/ --prefix" ;;
    operator)
      echo "read $prefix/ --prefix"
      echo "readwrite $prefix/tokens/ --prefix"
      echo "readwrite $prefix/requests/ --prefix" ;;
    node)
      # the config key is watched as a prefix of itself, so the grant is a prefix too
      echo "read $prefix/nodes/ --prefix"
      echo "read $prefix/config --prefix"
      echo "read $prefix/enroll-results/$2"
      echo "readwrite $prefix/enroll/$2"
      echo "readwrite $prefix/status/$2" ;;
  esac
}

role_name() {
  case "$1" in
    node) echo "keymesh-node-$2" ;;
    *) echo "keymesh-$1" ;;
  esac
}

ensure_role() { # KIND [NODE]
  local role
  role=$(role_name "$@")
  if ! etcdctl role get "$role" >/dev/null 2>&1; then
    etcdctl role add "$role" >/dev/null
  fi
  local type key flag
  while read -r type key flag; do
    etcdctl role grant-permission "$role" "$type" "$key" ${flag:+"$flag"} >/dev/null
  done < <(permissions "$@")
  echo "$role"
}

ensure_user() { # USER PASSWORD_FILE|- ROLE
  local user=$1 file=$2 role=$3
  if [ "$file" = "-" ]; then
    if ! etcdctl user get "$user" >/dev/null 2>&1; then
      etcdctl user add "$user" --no-password >/dev/null
    fi
    etcdctl user grant-role "$user" "$role" >/dev/null
    echo "etcd user $user (client certificate CN=$user only) has role $role"
    return
  fi
  [ -r "$file" ] || { echo "etcd-access.sh: cannot read password file $file" >&2; exit 1; }
  if [ -n "$(find "$file" -perm /077)" ]; then
    echo "etcd-access.sh: $file is readable by group or others; run 'chmod 600 $file'" >&2
    exit 1
  fi
  if [ "$(wc -w < "$file")" != 1 ]; then
    echo "etcd-access.sh: $file must hold one password without white space, on one line" >&2
    exit 1
  fi
  if etcdctl user get "$user" >/dev/null 2>&1; then
    head -n 1 "$file" | etcdctl user passwd "$user" --interactive=false >/dev/null
  else
    head -n 1 "$file" | etcdctl user add "$user" --interactive=false >/dev/null
  fi
  etcdctl user grant-role "$user" "$role" >/dev/null
  echo "etcd user $user has role $role"
}

case "$command" in
  enable-auth)
    [ $# -eq 0 ] || usage
    if ! etcdctl user get root >/dev/null 2>&1; then
      etcdctl user add root --no-password >/dev/null
    fi
    etcdctl user grant-role root root >/dev/null
    etcdctl auth enable >/dev/null
    echo "etcd authentication is on; root authenticates with its client certificate (CN=root)" ;;
  authority|operator)
    [ $# -eq 2 ] || usage
    role=$(ensure_role "$command")
    ensure_user "$1" "$2" "$role" ;;
  node)
    [ $# -eq 3 ] || usage
    node_name_ok "$1" || { echo "etcd-access.sh: '$1' is not a node name (a lower-case DNS label)" >&2; exit 2; }
    role=$(ensure_role node "$1")
    ensure_user "$2" "$3" "$role" ;;
  print-roles)
    [ $# -le 1 ] || usage
    node=${1:-NODE}
    for kind in authority operator node; do
      echo "role $(role_name "$kind" "$node"):"
      permissions "$kind" "$node" | sed 's/^/  /'
    done ;;
  *) usage ;;
esac
