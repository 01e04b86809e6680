#!/usr/bin/env bash
# identify.sh: who this host is, asked before any secret is sent to it: its hostname and the ed25519 SSH host
# key its sshd serves. The program checks the hostname against the worker it expects and pins the key on every
# later connection, so a recycled address that now leads to another machine is refused by SSH itself. It also
# reports when the host came up (its PID 1's start: the boot of a VM, the start of a rehearsal host), which the
# program takes as the slice's start to measure its uptime (components/lifecycle/sliceHold.ts).
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

# PID 1's start: the kernel's boot time (btime, unix seconds) plus field 22 of /proc/1/stat (clock ticks after
# the boot). The fields are counted after the command name's closing parenthesis, as the name may hold spaces.
btime="$(awk '$1 == "btime" { print $2 }' /proc/stat)"
ticks="$(sed 's/^.*) //' /proc/1/stat | awk '{ print $20 }')"
hz="$(getconf CLK_TCK)"
[[ "$btime" =~ ^[0-9]+$ && "$ticks" =~ ^[0-9]+$ && "$hz" =~ ^[1-9][0-9]*$ ]] ||
    die "could not read when this host came up: btime '$btime' in /proc/stat, start '$ticks' in /proc/1/stat, CLK_TCK '$hz'"
booted_at=$((btime + ticks / hz))
log "hostname $HOST_SHORT, host key ${key:0:24}… from $from, up since $(date -u -d "@$booted_at" +%Y-%m-%dT%H:%M:%SZ)"
result_object host str "$HOST_SHORT" hostKey str "$key" bootedAt int "$booted_at"
