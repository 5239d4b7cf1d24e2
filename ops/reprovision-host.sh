#!/usr/bin/env bash
# Reprovisions ONE re-imaged host over ssh: the new identity the host made for itself takes over
# its node name, at the next epoch, with the same overlay addresses; the old identity is fenced.
# See ops/runbooks/reprovision.md. Loop over a list of hosts for a rolling reprovision.
#
#   ops/reprovision-host.sh [--ssh 'ssh -o BatchMode=yes'] [--timeout 300] [--dry-run] NODE SSH_TARGET
#
# Steps: check the host; read NODE's record (keymesh nodes -o json); print the host's identity
# (keymesh-daemon --print-identity); authorize it (keymesh reprovision, which prints the join
# token secret); write the secret into the host's token file through ssh's stdin; restart the
# daemon; wait until NODE is active with the new identity at a higher epoch; remove the token file.
# Progress goes to stderr, the one-line summary to stdout. Exit 0 done (or nothing to do),
# 1 failed (the line says why and what is left), 2 usage.
set -Eeuo pipefail   # -E: the ERR trap below also fires inside functions

prog=reprovision-host
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
state_dir=/var/lib/keymesh            # the daemon's default stateDir
token_file=/etc/keymesh/join-token    # the daemon's joinTokenFile (or --join-token-file)
unit=keymesh-daemon.service
remote_path='PATH="$PATH:/opt/keymesh/ops/bin"'   # a checkout install; the package's programs are in /usr/bin
op_limit=60                           # seconds for one ssh command or one 'keymesh nodes'
poll=2                                # seconds between checks while waiting for the admission
progress_every=10                     # seconds between progress lines while waiting

ssh_line='ssh -o BatchMode=yes -o ConnectTimeout=10'
timeout=300
dry_run=0
node=
target=
left=   # what a failure from here on leaves behind, and what to do about it

usage() {
  cat <<EOF
usage: ops/reprovision-host.sh [--ssh 'ssh -o BatchMode=yes'] [--timeout 300] [--dry-run] NODE SSH_TARGET

Reprovisions one re-imaged host: authorizes the identity it made for itself to take over node
NODE (same overlay addresses, next epoch), hands it a join token through ssh's stdin, restarts
$unit and waits until the authority has admitted it. SSH_TARGET logs in as root.

  --ssh CMD        the ssh command, split on spaces (default: $ssh_line); it must not prompt
  --timeout SECS   the longest wait for the authority's answer and for the admission (default 300)
  --dry-run        print the steps and run nothing

Environment: KEYMESH is the keymesh command with its global options, split on spaces (default:
$here/bin/keymesh if present, else keymesh), for example
KEYMESH='keymesh --config /etc/keymesh/authority.yaml'.
See ops/runbooks/reprovision.md.
EOF
}

usage_error() {
  printf '%s: %s\n' "$prog" "$1" >&2
  printf 'usage: ops/reprovision-host.sh [--ssh CMD] [--timeout SECS] [--dry-run] NODE SSH_TARGET (--help for more)\n' >&2
  exit 2
}

say() { printf '%s: %s\n' "$node" "$*" >&2; }   # progress

die() {
  printf '%s: %s%s\n' "$prog" "${node:+$node: }" "$1" >&2
  if [ -n "$left" ]; then printf '%s: %snote: %s\n' "$prog" "${node:+$node: }" "$left" >&2; fi
  exit 1
}
trap 'die "unexpected failure at line $LINENO: $BASH_COMMAND"' ERR

# why STATUS: what an exit status of timeout(1) around ssh or keymesh means
why() {
  case $1 in
    124) echo "no answer within the time limit" ;;
    255) echo "ssh to $target failed" ;;
    *) echo "exit status $1" ;;
  esac
}

# key_id BASE64: the first 16 hex digits of the SHA-256 of the key, as keymesh names identities
key_id() {
  if [ -n "${1:-}" ] && printf '%s' "$1" | base64 -d >/dev/null 2>&1; then
    printf '%s' "$1" | base64 -d | sha256sum | cut -c1-16
  else
    echo "?"
  fi
}

# ---- arguments

positional=()
while [ $# -gt 0 ]; do
  case $1 in
    --ssh) [ $# -ge 2 ] || usage_error "--ssh needs a command"; ssh_line=$2; shift 2 ;;
    --ssh=*) ssh_line=${1#*=}; shift ;;
    --timeout) [ $# -ge 2 ] || usage_error "--timeout needs a number of seconds"; timeout=$2; shift 2 ;;
    --timeout=*) timeout=${1#*=}; shift ;;
    --dry-run) dry_run=1; shift ;;
    -h|--help) usage; exit 0 ;;
    --) shift; positional+=("$@"); break ;;
    -*) usage_error "unknown option $1" ;;
    *) positional+=("$1"); shift ;;
  esac
done
[ ${#positional[@]} -eq 2 ] || usage_error "expected NODE and SSH_TARGET, got ${#positional[@]} argument(s)"
node=${positional[0]}
target=${positional[1]}
[[ $node =~ ^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$ ]] || usage_error "node name '$node' is not a lower-case DNS label"
[[ $target =~ ^[^-[:space:]][^[:space:]]*$ ]] || usage_error "SSH_TARGET '$target' is not a host (user@host)"
[[ $timeout =~ ^[1-9][0-9]*$ ]] || usage_error "--timeout must be a whole number of seconds, got '$timeout'"
read -r -a ssh <<<"$ssh_line"
[ ${#ssh[@]} -gt 0 ] || usage_error "--ssh is empty"
read -r -a keymesh <<<"${KEYMESH:-}"
if [ ${#keymesh[@]} -eq 0 ]; then
  if [ -x "$here/bin/keymesh" ]; then keymesh=("$here/bin/keymesh"); else keymesh=(keymesh); fi
fi

# ---- what runs on the host (POSIX sh, as root)

# Facts about the host's daemon, one key=value a line: who we are, where keymesh-daemon is, the
# unit's command line, and the node name, state directory and token file the daemon will use
# (its flags first, then its YAML file, then its defaults, as keymesh-daemon resolves them).
preflight=$(cat <<'EOF'
PATH="$PATH:/opt/keymesh/ops/bin"
echo "uid=$(id -u)"
echo "daemon=$(command -v keymesh-daemon || true)"
echo "load=$(systemctl show -p LoadState --value keymesh-daemon.service 2>/dev/null || true)"
argv=$(systemctl show -p ExecStart --value keymesh-daemon.service 2>/dev/null | sed -n 's/.*argv\[\]=\([^;]*\) ;.*/\1/p' | head -n 1)
cfg= node= state= token= node_from=flag
set -f
set -- $argv
while [ $# -gt 0 ]; do
  case $1 in
    --config|--node|--state-dir|--join-token-file)
      [ $# -gt 1 ] || break
      case $1 in --config) cfg=$2 ;; --node) node=$2 ;; --state-dir) state=$2 ;; *) token=$2 ;; esac
      shift ;;
    --config=*) cfg=${1#*=} ;;
    --node=*) node=${1#*=} ;;
    --state-dir=*) state=${1#*=} ;;
    --join-token-file=*) token=${1#*=} ;;
  esac
  shift
done
yaml() {
  [ -n "$cfg" ] && [ -r "$cfg" ] || return 0
  sed -n "s/^$1:[[:space:]]*//p" "$cfg" | head -n 1 | sed -e 's/[[:space:]]#.*$//' -e 's/[[:space:]]*$//' \
    -e "s/^\"\(.*\)\"\$/\1/" -e "s/^'\(.*\)'\$/\1/"
}
[ -n "$node" ] || { node=$(yaml node); node_from="node: in $cfg"; }
[ -n "$node" ] || { node=$(hostname | cut -d. -f1 | tr 'A-Z' 'a-z'); node_from="the host name"; }
[ -n "$state" ] || state=$(yaml stateDir)
[ -n "$token" ] || token=$(yaml joinTokenFile)
echo "config=$cfg"
if [ -z "$cfg" ] || [ -r "$cfg" ]; then echo "config_readable=yes"; else echo "config_readable=no"; fi
echo "node=$node"
echo "node_from=$node_from"
echo "state=${state:-/var/lib/keymesh}"
echo "token=$token"
EOF
)

# The token secret arrives on stdin; it is written to a 0600 temp file and renamed over the
# token file, so a file that exists with other modes is replaced, never reused.
write_token=$(cat <<EOF
umask 077 && mkdir -p ${token_file%/*} && t=\$(mktemp ${token_file%/*}/.join-token.XXXXXX) || exit 1
if cat > "\$t" && [ -s "\$t" ]; then mv -f "\$t" $token_file; else rm -f "\$t"; exit 1; fi
EOF
)

print_identity="$remote_path keymesh-daemon --print-identity --state-dir $state_dir"

# ---- dry run

if [ "$dry_run" -eq 1 ]; then
  s="${ssh[*]} $target"
  k="${keymesh[*]}"
  cat <<EOF
would reprovision $node on $target, each step bounded ($op_limit s per ssh command, $timeout s for the authority):
  1. check the host: $s '<as root? keymesh-daemon found? $unit installed; its node name is $node, stateDir $state_dir, joinTokenFile $token_file>'
  2. read the record: $k nodes -o json   ($node must be active; note its epoch and identityKey)
  3. print the identity: $s '$print_identity'
     (the same identityKey as the record: nothing to reprovision, only remove $token_file)
  4. authorize it: $k reprovision $node --identity <identity>   (stdout: the join token secret)
  5. write the token: printf '%s\\n' "<secret>" | $s 'umask 077; cat > $token_file'   (via a temp file, renamed)
  6. restart the daemon: $s 'systemctl restart $unit'
  7. wait up to $timeout s: $k nodes -o json shows $node active, identityKey <identity>, epoch above the old one
     (every $poll s; stop early if $s 'systemctl is-active $unit' says failed)
  8. remove the spent token: $s 'rm -f $token_file'
  9. print one line: $node, epochs, identity key ids, addresses
EOF
  exit 0
fi

for tool in jq timeout base64 sha256sum "${ssh[0]}" "${keymesh[0]}"; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool not found on this machine (needed to reprovision; see ops/runbooks/reprovision.md)"
done

remote() { timeout "$op_limit" "${ssh[@]}" "$target" "$1" </dev/null; }
km() { timeout "$op_limit" "${keymesh[@]}" "$@" </dev/null; }

# record: NODE's record as "state epoch identityKey verified addresses" (tab-separated), or nothing
record() {
  local json
  json=$(km nodes -o json) || return $?
  jq -r --arg n "$node" '.[] | select(.node == $n)
      | [.state, (.epoch | tostring), .identityKey, .verified, ((.addresses // []) | join(","))] | @tsv' <<<"$json"
}

started=$SECONDS

# ---- 1. the host

say "checking $target: root, keymesh-daemon, $unit, node name, state directory, join token file"
facts=$(remote "$preflight") || die "cannot check $target over ssh ($(why $?))"
declare -A host=()
while IFS='=' read -r key value; do
  [ -n "$key" ] && host[$key]=$value
done <<<"$facts"
[ "${host[uid]:-}" = 0 ] || die "$target logs in as uid ${host[uid]:-unknown}; the steps need root (use root@host as SSH_TARGET)"
[ -n "${host[daemon]:-}" ] || die "keymesh-daemon not found on $target (PATH, /usr/bin and /opt/keymesh/ops/bin); install keymesh on the image first"
[ "${host[load]:-}" = loaded ] || die "$unit is not installed on $target (LoadState ${host[load]:-unknown}); install ops/systemd/keymesh-daemon.service"
[ "${host[config_readable]:-}" = yes ] || die "the daemon's configuration ${host[config]} does not exist on $target"
[ "${host[node]:-}" = "$node" ] || die "the daemon on $target would run as node '${host[node]:-}' (from ${host[node_from]:-?}), not $node; set node: $node in its configuration"
[ "${host[state]:-}" = "$state_dir" ] || die "the daemon on $target keeps its keys in ${host[state]:-?}; this script handles only $state_dir (see the runbook for the steps by hand)"
[ "${host[token]:-}" = "$token_file" ] || die "the daemon on $target reads its join token from '${host[token]:-nowhere}', not $token_file; set joinTokenFile: $token_file in ${host[config]:-its configuration}"

# ---- 2. the record

say "reading $node's record (keymesh nodes -o json)"
rec=$(record) || die "keymesh nodes -o json failed ($(why $?)); is etcd reachable with these settings (KEYMESH)?"
[ -n "$rec" ] || die "no node $node in the mesh; a new host joins with a join token (keymesh token create --node $node), not a reprovision"
IFS=$'\t' read -r old_state old_epoch old_identity old_verified old_addresses <<<"$rec"
case $old_verified in
  NO*) die "nodes/$node does not verify ($old_verified); run 'keymesh verify' and resolve that first" ;;
esac
[ "$old_state" = active ] || die "$node is $old_state at epoch $old_epoch; a revoked name takes a new host with a join token (keymesh token create --node $node), not a reprovision"
old_id=$(key_id "$old_identity")
say "active at epoch $old_epoch with identity $old_id, addresses ${old_addresses:-none}"

# ---- 3. the host's identity

say "printing the identity of $target (keymesh-daemon --print-identity --state-dir $state_dir)"
identity=$(remote "$print_identity") || die "keymesh-daemon --print-identity failed on $target ($(why $?)); its message is above"
identity=${identity%$'\r'}
[[ $identity =~ ^[A-Za-z0-9+/]{43}=$ ]] || die "keymesh-daemon --print-identity on $target printed no identity key (expected one line of base64)"
new_id=$(key_id "$identity")

if [ "$identity" = "$old_identity" ]; then
  say "$target already holds $node's identity $new_id: nothing to reprovision"
  remote "rm -f $token_file" || die "cannot remove $token_file on $target ($(why $?)); remove it by hand"
  printf '%s on %s: already active at epoch %s with identity %s; nothing to reprovision (no token file left), %d s\n' \
      "$node" "$target" "$old_epoch" "$new_id" $((SECONDS - started))
  exit 0
fi

# ---- 4. authorize the new identity; the secret stays in this shell and goes out on ssh's stdin

say "authorizing identity $new_id for $node (keymesh reprovision)"
secret=$(timeout "$timeout" "${keymesh[@]}" reprovision "$node" --identity "$identity" </dev/null) || {
  rc=$?
  if [ "$rc" -eq 124 ]; then
    left="perhaps a pending request, which authorizes only identity $new_id for $node and can be left; $node keeps identity $old_id"
    die "keymesh reprovision did not finish within $timeout s; is etcd reachable from here?"
  fi
  left="$node keeps identity $old_id; nothing else changed"
  die "keymesh reprovision $node was refused or failed (exit status $rc; its message is above)"
}
[[ $secret =~ ^[^[:space:]]+$ ]] || die "keymesh reprovision printed no token secret (expected one line on stdout)"
left="the request for identity $new_id is authorized; $node keeps identity $old_id until the new one is admitted; fix the cause and run this script again (it makes a new token; an unused one expires)"

# ---- 5. the token file

say "writing the join token to $target:$token_file (0600, through ssh's stdin)"
printf '%s\n' "$secret" | timeout "$op_limit" "${ssh[@]}" "$target" "$write_token" \
  || die "cannot write $token_file on $target ($(why $?))"
secret=
left="$token_file on $target holds an unspent token bound to $node; $node keeps identity $old_id until the new one is admitted; fix the cause and run this script again"

# ---- 6. the daemon

say "restarting $unit on $target"
remote "systemctl restart $unit" || die "systemctl restart $unit failed on $target ($(why $?)); see journalctl -u $unit there"

# ---- 7. the admission

say "waiting up to $timeout s for $node to be admitted with identity $new_id at an epoch above $old_epoch"
waited=$SECONDS
deadline=$((SECONDS + timeout))
next_progress=$((SECONDS + progress_every))
while :; do
  seen="unreadable (keymesh nodes -o json failed)"
  if rec=$(record) && [ -n "$rec" ]; then
    IFS=$'\t' read -r new_state new_epoch new_identity new_verified new_addresses <<<"$rec"
    if [ "$new_state" = active ] && [ "$new_identity" = "$identity" ] && [ "$new_epoch" -gt "$old_epoch" ]; then
      break
    fi
    seen="$new_state at epoch $new_epoch with identity $(key_id "$new_identity")"
  fi
  daemon_state=$(remote "systemctl is-active $unit" 2>/dev/null) || true
  if [ "$daemon_state" = failed ]; then
    details=$(remote "systemctl show -p ExecMainStatus --value $unit; journalctl -u $unit -n 1 -o cat --no-pager" 2>/dev/null) || true
    status=$(sed -n 1p <<<"$details")
    last=$(sed -n 2p <<<"$details")
    meaning=""
    [ "$status" = 3 ] && meaning=", the authority rejected its join"
    left="$node keeps identity $old_id; $token_file is left on $target (unspent unless the join was admitted); fix the cause and run this script again"
    die "$unit on $target stopped (exit status ${status:-unknown}$meaning): ${last:-see journalctl -u $unit there}"
  fi
  if [ "$SECONDS" -ge "$deadline" ]; then
    left="$token_file is left on $target for the daemon, which may still join; run this script again: once $node holds identity $new_id it only removes the token file"
    die "$node was not admitted with identity $new_id within $timeout s (nodes/$node: $seen; $unit: ${daemon_state:-unknown}); see journalctl -u $unit on $target and keymesh status"
  fi
  if [ "$SECONDS" -ge "$next_progress" ]; then
    say "still waiting ($((SECONDS - waited)) s of $timeout s): nodes/$node $seen; $unit ${daemon_state:-unknown}"
    next_progress=$((SECONDS + progress_every))
  fi
  sleep "$poll"
done
say "admitted at epoch $new_epoch with identity $new_id after $((SECONDS - waited)) s"

# ---- 8. the spent token

left="$node is reprovisioned; remove $token_file on $target by hand (the token is spent)"
say "removing $token_file on $target (the token is spent)"
remote "rm -f $token_file" || die "cannot remove $token_file on $target ($(why $?))"
left=
daemon_state=$(remote "systemctl is-active $unit" 2>/dev/null) || true

printf 'reprovisioned %s on %s: epoch %s -> %s, identity %s -> %s, addresses %s, %s %s, %d s\n' \
    "$node" "$target" "$old_epoch" "$new_epoch" "$old_id" "$new_id" "${new_addresses:-none}" \
    "$unit" "${daemon_state:-unknown}" $((SECONDS - started))
case $new_verified in
  NO*) die "the new nodes/$node does not verify ($new_verified); run keymesh verify" ;;
esac
