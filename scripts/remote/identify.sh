#!/usr/bin/env bash
# identify.sh: who this host is, asked before any secret is sent to it: its hostname and the ed25519 SSH host
# key its sshd serves. The program checks the hostname against the worker it expects and pins the key on every
# later connection, so a recycled address that now leads to another machine is refused by SSH itself.
# Inputs: SSH_PORT (the port sshd listens on inside the host).
# shellcheck source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_int SSH_PORT

key=""
from="sshd on 127.0.0.1:$SSH_PORT"
if command -v ssh-keyscan >/dev/null; then
    key="$(ssh-keyscan -T 5 -t ed25519 -p "$SSH_PORT" 127.0.0.1 2>/dev/null | awk '$2 == "ssh-ed25519" { print $2 " " $3; exit }' || true)"
fi
if [[ -z "$key" && -r /etc/ssh/ssh_host_ed25519_key.pub ]]; then
    key="$(awk '{ print $1 " " $2; exit }' /etc/ssh/ssh_host_ed25519_key.pub)"
    from=/etc/ssh/ssh_host_ed25519_key.pub
fi
[[ "$key" =~ ^ssh-ed25519\ [A-Za-z0-9+/]+=*$ ]] ||
    die "could not read this host's ed25519 SSH host key: ssh-keyscan of 127.0.0.1:$SSH_PORT and /etc/ssh/ssh_host_ed25519_key.pub gave nothing (is sshd's ed25519 key enabled?)"
log "hostname $HOST_SHORT, host key ${key:0:24}… from $from"
result_object host str "$HOST_SHORT" hostKey str "$key"
