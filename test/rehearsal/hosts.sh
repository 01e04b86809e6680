#!/usr/bin/env bash
# Local stand-ins for Cloud TPU VM workers, for the offline rehearsal: the real Pulumi engine drives the stacks
# over real SSH against these hosts instead of a v6e-16 (4 train workers) and a v6e-8 (1 eval host).
#
# Each host is a set of Linux namespaces on this machine, not a container or a VM:
#   net    its own network namespace (ts<world>-<name>) with one interface, eth0, plugged into the bridge
#          ts<world>-br in the root namespace. The hosts reach each other and the bridge address (where the
#          rehearsal can bind a GCS emulator) and nothing else: they have no default route.
#   uts    its own hostname, shaped like a TPU VM's (t1v-n-rehearsal-train-w-0 ...).
#   mount  its own /root (a bind mount of <state-dir>/hosts/<name>/root) and /etc/hosts; the rest of the
#          file system is shared, so gcloud, git and python3 (/usr/bin) are there as on the machine.
#   pid    its own process table, with a tiny init as PID 1. The remote scripts look for leftover jobs by
#          name (`pgrep -f run_sid_sft` in scripts/remote/lib.sh); in one shared process table a worker would
#          find, and kill, the jobs that its three neighbours have just started. PID 1 also reaps detached
#          jobs whose parent has gone, so a finished job never lingers as a zombie that `kill -0` calls alive.
# sshd (Debian's) runs inside all four namespaces, so every SSH session, and every job that a session
# detaches with `setsid nohup`, stays on that host with HOME=/root.
#
# Usage (as root):
#   hosts.sh up <state-dir> <pubkey-file>   create the hosts (recreates this world's hosts if they exist); prints
#                                           hosts.json
#   hosts.sh down <state-dir> [--purge]     remove everything `up` created for this state dir; --purge also deletes
#                                           <state-dir>
#   hosts.sh status <state-dir>             print what exists of this world
#   hosts.sh stop-sshd <state-dir> <name>   stop that host's sshd listener (open sessions and jobs keep running)
#   hosts.sh start-sshd <state-dir> <name>  start it again
#   hosts.sh cut-net <state-dir> <name>     link down the host's veth (a network partition: no reset, no route)
#   hosts.sh restore-net <state-dir> <name> link it up again
# The twin of the TPU control plane (a slice is created and deleted by Pulumi through these; components/localSlice.ts):
#   hosts.sh network <state-dir> <pubkey-file>          the bridge only, no host; prints hosts.json (the hosts that
#                                                       slices of REHEARSAL_TRAIN_HOSTS and 1 eval host would have)
#   hosts.sh slice-up <state-dir> <slice> <count> <zone>  create slice <slice> (train or eval) with <count> hosts, each
#                                                       with a fresh /root and a new host key, like a new TPU VM; prints
#                                                       {"name","instance","zone","state","hosts":[{host,port,hostname}]}.
#                                                       Fails with GCP's stockout error in a zone set to capacity none
#   hosts.sh slice-down <state-dir> <slice>             delete it: its hosts' processes and namespaces (their /root stays
#                                                       on disk until the next slice-up, for inspection)
#   hosts.sh slice-state <state-dir> <slice>            READY, PREEMPTED or NOT_FOUND (as `gcloud … tpu-vm describe
#                                                       --format='value(state)'` would say)
#   hosts.sh preempt <state-dir> <slice>                kill the slice's hosts and record PREEMPTED (a spot preemption)
#   hosts.sh zone-capacity <state-dir> <zone> none|ok   make slice-up in <zone> fail for lack of capacity, or not
# <name> is one of train-w0 … train-w<N-1> and eval-w0 (the "name" field of hosts.json).
#
# Environment:
#   REHEARSAL_TRAIN_HOSTS   how many train workers (default 4, at most 16).
#   REHEARSAL_SUBNET        the /24 to use, as A.B.C.0/24 or A.B.C. Default: the first 10.213.X.0/24 (X from 0) that no
#                           route on this machine covers, so worlds side by side get their own. The bridge is .1,
#                           train workers .10 on, the eval host .200.
#   REHEARSAL_WAIT_SECONDS  how long `up` waits for every sshd to answer (default 30).
#   REHEARSAL_SLICE_WAIT_SECONDS  the same for `slice-up` (default 90: a busy machine may be slow to start a slice).
#
# Several worlds can exist on one machine at once (two test runs side by side): each state dir is one world, with
# a random id (<state-dir>/world-id) in every name it creates. `down` removes only its own world's namespaces,
# links and processes, never another's. Calls are serialised by a lock, so a second `up` waits for the first.
set -euo pipefail

SELF="$(readlink -f "${BASH_SOURCE[0]}")"
readonly SELF
# Set by load_world from the state dir: every name this script creates starts with PREFIX (interface names
# have at most 15 characters: "ts" + 5 hex + "-vt15" is 12).
PREFIX=""
BRIDGE=""
NAMES=()
# Packages this script (and the jobs run on the hosts) need. procps gives pgrep/ps and psmisc gives fuser,
# both used by scripts/remote/lib.sh on the hosts; iputils-ping is for manual checks.
readonly PACKAGES=(openssh-server openssh-client iproute2 procps psmisc util-linux iputils-ping)

note() { printf 'hosts.sh: %s\n' "$*" >&2; }
die() { printf 'hosts.sh: error: %s\n' "$*" >&2; exit 1; }

usage() {
    sed -n '/^# Usage/,/^# Several worlds/p' "$SELF" | sed -e 's/^# \{0,1\}//' -e '/^Several worlds/d' >&2
    exit 2
}

# --- the host table ---------------------------------------------------------------------------------------

# Everything about a host follows from its name, so down/status/cut-net need no state file.
host_role() { case "$1" in train-w[0-9] | train-w1[0-5]) echo train ;; eval-w[0-9] | eval-w1[0-5]) echo eval ;; *) return 1 ;; esac; }
host_index() { echo "${1##*-w}"; }
host_ns() { echo "$PREFIX-$1"; }                                                 # e.g. ts1f2e3-train-w0
host_veth() { echo "$PREFIX-v$(host_role "$1" | cut -c1)$(host_index "$1")"; } # root-side end: ts1f2e3-vt0
host_hostname() { echo "t1v-n-rehearsal-$(host_role "$1")-w-$(host_index "$1")"; }
host_ip() {
    case "$(host_role "$1")" in
        train) echo "$NET.$((10 + $(host_index "$1")))" ;;
        eval) echo "$NET.$((200 + $(host_index "$1")))" ;;
    esac
}
check_name() {
    local n
    for n in "${NAMES[@]}"; do [[ "$1" == "$n" ]] && return 0; done
    die "unknown host '$1' (one of: ${NAMES[*]})"
}

# REHEARSAL_SUBNET -> NET (the first three octets). 10.213.X.0/24 is in the private range but an unusual
# pick; `up` still refuses one that any route on this machine already covers (another world's bridge included).
subnet_free() { [[ -z "$(ip -4 route show match "$1.1" 2>/dev/null | grep -v '^default' || true)" ]]; }
parse_subnet() {
    local s="${REHEARSAL_SUBNET:-}" x
    if [[ -z "$s" ]]; then
        for x in $(seq 0 254); do
            if subnet_free "10.213.$x"; then
                NET="10.213.$x"
                return 0
            fi
        done
        die "no free 10.213.X.0/24 for the hosts' bridge; set REHEARSAL_SUBNET to a free /24"
    fi
    s="${s%/24}"
    s="${s%.0}"
    if ! [[ "$s" =~ ^([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})$ ]] ||
        ((BASH_REMATCH[1] > 255 || BASH_REMATCH[2] > 255 || BASH_REMATCH[3] > 255)); then
        die "REHEARSAL_SUBNET='${REHEARSAL_SUBNET:-}' is not a /24 like 10.213.0.0/24 (or 10.213.0)"
    fi
    NET="$s"
}
NET=""

# --- small helpers ----------------------------------------------------------------------------------------

require_root() { [[ "$(id -u)" == 0 ]] || die "must run as root (it creates network namespaces and a bridge)"; }

# Serialise up, down, stop-sshd and start-sshd: a lock on this script file itself, so that no lock file is left behind.
# Every background process below closes fd 9, or it would hold the lock for as long as the hosts live.
take_lock() {
    exec 9<"$SELF"
    flock -w 300 9 || die "another hosts.sh is still running (waited 300 s for the lock on $SELF)"
}

# The state dir is shared with the hosts, whose /root is replaced: a state dir under /root would be
# invisible to their sshd (its config and host key live there).
resolve_state_dir() {
    local dir="$1" create="$2"
    [[ -n "$dir" ]] || die "missing <state-dir>"
    dir="$(readlink -m "$dir")"   # absolute, symlinks resolved, need not exist yet
    case "$dir" in
        /) die "the state dir cannot be /" ;;
        /root | /root/*) die "state dir '$dir' is under /root, which every host replaces with its own; pick one elsewhere (e.g. under /tmp)" ;;
    esac
    if [[ "$create" == 1 ]]; then mkdir -p "$dir"; fi
    STATE="$dir"
}
STATE=""

host_dir() { echo "$STATE/hosts/$1"; }

# Netns members: every process whose network namespace is this one (sshd, its sessions, detached jobs,
# and the init and unshare/nsenter processes that started them).
ns_exists() { [[ -e "/run/netns/$1" ]]; }   # `ip netns add` names a namespace by this bind-mounted file
ns_pids() { if ns_exists "$1"; then ip netns pids "$1" 2>/dev/null || true; fi; }

# The root-namespace pid of the process that is <inner> inside the host's pid namespace. NSpid lists a
# process's pid in each pid namespace it belongs to, outermost first; a host's processes have exactly one
# more entry than ours. PID 1 is the host's init.
outer_pid() {
    local ns="$1" inner="$2" pid nspid depth
    depth="$(awk '/^NSpid:/ {print NF + 1}' /proc/self/status)"
    for pid in $(ns_pids "$ns"); do
        nspid="$(awk '/^NSpid:/ {print $NF, NF}' "/proc/$pid/status" 2>/dev/null || true)"
        if [[ "$nspid" == "$inner $depth" ]]; then echo "$pid"; return 0; fi
    done
    return 1
}

# An answer that starts with the SSH banner, from the root namespace over the bridge.
sshd_answers() {
    local banner
    # shellcheck disable=SC2016
    banner="$(timeout 2 bash -c 'exec 3<>"/dev/tcp/$1/22" && head -c 7 <&3' _ "$1" 2>/dev/null || true)"
    [[ "$banner" == "SSH-2.0" ]]
}

link_exists() { ip link show dev "$1" >/dev/null 2>&1; }
our_links() { ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | sed 's/@.*//' | grep "^$PREFIX-" || true; }
our_netns() { ip netns list 2>/dev/null | awk '{print $1}' | grep "^$PREFIX-" || true; }

# The world of a state dir: its id (made once by `up`) and the names that follow from it.
load_world() {
    local create="$1" id_file="$STATE/world-id" id="" count="${REHEARSAL_TRAIN_HOSTS:-}"
    if [[ -f "$id_file" ]]; then id="$(cat "$id_file")"; fi
    if [[ -z "$id" && "$create" == 1 ]]; then
        id="$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n' | cut -c1-5)"
        printf '%s\n' "$id" >"$id_file"
    fi
    [[ "$id" =~ ^[0-9a-f]{5}$ ]] || die "no world under $STATE (no world-id: was \`hosts.sh up\` run with this state dir?)"
    PREFIX="ts$id"
    BRIDGE="$PREFIX-br"
    if [[ "$create" == 1 ]]; then
        count="${count:-4}"
        if ! [[ "$count" =~ ^[0-9]+$ ]] || ((count < 1 || count > 16)); then
            die "REHEARSAL_TRAIN_HOSTS='$count' must be 1 to 16"
        fi
        printf '%s\n' "$count" >"$STATE/train-hosts"
    else
        count="$(cat "$STATE/train-hosts" 2>/dev/null || echo 4)"
    fi
    NAMES=()
    local i
    for ((i = 0; i < count; i++)); do NAMES+=("train-w$i"); done
    NAMES+=(eval-w0)
}

# --- packages ---------------------------------------------------------------------------------------------

# CI runs on a fresh machine, so the script installs what it needs; when everything is there it only asks
# dpkg. apt's output goes to a log that is shown only if the install fails.
ensure_packages() {
    local missing=() p
    for p in "${PACKAGES[@]}"; do
        if [[ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)" != installed ]]; then missing+=("$p"); fi
    done
    ((${#missing[@]} == 0)) && return 0
    note "installing ${missing[*]} (apt-get)"
    local log created_policy=0
    log="$(mktemp)"
    # Installing openssh-server would start a system sshd on 0.0.0.0:22 in the root namespace. Debian's
    # invoke-rc.d asks /usr/sbin/policy-rc.d first; exit 101 means "do not start services".
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        created_policy=1
    fi
    local rc=0
    {
        DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
    } >"$log" 2>&1 || rc=$?
    if ((created_policy)); then rm -f /usr/sbin/policy-rc.d; fi
    if ((rc != 0)); then
        tail -n 30 "$log" >&2
        rm -f "$log"
        die "apt-get install ${missing[*]} failed (exit $rc)"
    fi
    rm -f "$log"
}

# --- teardown ---------------------------------------------------------------------------------------------

# Kill every process in the namespace, however it got there, then delete it. SIGKILL on the host's PID 1
# alone would take its whole pid namespace down; the loop also catches the unshare/nsenter parents that
# live outside it, and anything forked while we were killing.
kill_ns_processes() {
    local ns="$1" pids _
    for _ in $(seq 1 100); do
        pids="$(ns_pids "$ns")"
        [[ -z "$pids" ]] && return 0
        # shellcheck disable=SC2206
        KILLED+=($pids)
        # shellcheck disable=SC2086
        kill -KILL $pids 2>/dev/null || true
        sleep 0.1
    done
    note "processes still in $ns after 10 s: $(ns_pids "$ns" | tr '\n' ' ')"
    return 1
}
KILLED=()

# A killed process stays in the process table as a zombie until its parent reaps it. Our unshare and
# nsenter processes, and whatever the hosts' init had adopted, end up as children of the machine's PID 1
# once `up` has exited; this sandbox's PID 1 reaps only every few seconds. Wait for that, so that nothing
# of ours is visible in `ps` once `down` returns.
wait_reaped() {
    local deadline=$((SECONDS + 15)) pid left
    while :; do
        left=()
        for pid in "${KILLED[@]+"${KILLED[@]}"}"; do
            if [[ -e "/proc/$pid" ]]; then left+=("$pid"); fi
        done
        ((${#left[@]} == 0)) && return 0
        if ((SECONDS >= deadline)); then
            note "not yet reaped by their parent (zombies, harmless): ${left[*]}"
            return 0
        fi
        sleep 0.2
    done
}

teardown() {
    local ok=0 ns link
    for ns in $(our_netns); do
        kill_ns_processes "$ns" || ok=1
        # Deleting the namespace also deletes its eth0, and with it the root-side veth end.
        ip netns del "$ns" 2>/dev/null || { note "could not delete netns $ns"; ok=1; }
    done
    wait_reaped
    # Normally gone with their namespaces; this catches a veth or bridge left by an interrupted `up`.
    for link in $(our_links); do
        [[ "$link" == "$BRIDGE" ]] && continue
        ip link del "$link" 2>/dev/null || true
    done
    if link_exists "$BRIDGE"; then ip link del "$BRIDGE" 2>/dev/null || { note "could not delete $BRIDGE"; ok=1; }; fi
    # `ip netns add` turns /run/netns into a shared bind mount of itself; undo that once no namespace is
    # left in it, so the machine is as it was (the next `ip netns add` recreates it).
    if [[ -d /run/netns ]] && [[ -z "$(ls -A /run/netns 2>/dev/null)" ]]; then
        while mountpoint -q /run/netns; do umount /run/netns 2>/dev/null || break; done
        rmdir /run/netns 2>/dev/null || true
    fi
    # The hosts' bind mounts live only in their own mount namespaces, which died with their processes.
    # Check anyway that nothing of the state dir is mounted in the root namespace.
    if [[ -n "$STATE" ]]; then
        local mnt
        # shellcheck disable=SC2013
        for mnt in $(awk -v s="$STATE" 'index($5, s) == 1 {print $5}' /proc/self/mountinfo | sort -r); do
            umount -l "$mnt" 2>/dev/null || { note "could not unmount $mnt"; ok=1; }
        done
    fi
    return "$ok"
}

cmd_down() {
    local dir="" purge=0 a
    for a in "$@"; do
        case "$a" in
            --purge) purge=1 ;;
            -*) usage ;;
            *) [[ -z "$dir" ]] || usage; dir="$a" ;;
        esac
    done
    require_root
    resolve_state_dir "$dir" 0
    if [[ ! -f "$STATE/world-id" ]]; then
        note "down: no world under $STATE; nothing to remove"
        if ((purge)) && [[ -d "$STATE" && -z "$(ls -A "$STATE")" ]]; then rmdir "$STATE"; fi
        return 0
    fi
    load_world 0
    take_lock
    local rc=0
    teardown || rc=$?
    if [[ -d "$STATE" ]]; then
        rm -f "$STATE"/hosts/*/sshd/sshd.pid "$STATE"/hosts/*/init.pid "$STATE"/hosts/*/init.ready
        if ((purge)); then
            # Only a directory that `up` made (or an empty one): --purge must never delete something else.
            if [[ -e "$STATE/.tpusft-rehearsal" || -z "$(ls -A "$STATE")" ]]; then
                rm -rf -- "$STATE"
            else
                note "not purging $STATE: it was not created by hosts.sh up"; rc=1
            fi
        fi
    fi
    ((rc == 0)) || die "teardown incomplete (see above)"
    note "down: no $PREFIX- namespace, link or process of this world is left"
}

# --- bring-up ---------------------------------------------------------------------------------------------

# PID 1 of a host, run by `unshare` inside the host's new namespaces. It mounts the host's /root and
# /etc/hosts, sets the hostname, says it is ready, then waits forever, reaping orphans as it goes (bash
# reaps any child, adopted ones included, whenever SIGCHLD wakes it).
# shellcheck disable=SC2016
readonly INIT_PROGRAM='# PID 1 of a rehearsal host, written by test/rehearsal/hosts.sh
set -u
root_dir=$1 hosts_file=$2 host_name=$3 ready=$4
mount --bind "$root_dir" /root || exit 1
mount --bind "$hosts_file" /etc/hosts || exit 1
hostname "$host_name" || exit 1
: >"$ready"
trap "exit 0" TERM
while :; do sleep 3600 & wait $!; done
'

write_host_files() {
    local name="$1" pubkey="$2" dir root ip
    dir="$(host_dir "$name")"
    root="$dir/root"
    ip="$(host_ip "$name")"
    mkdir -p "$root/.ssh" "$dir/sshd"
    # Modes as on a real VM, so sshd's StrictModes checks pass.
    chmod 700 "$root" "$root/.ssh"
    cp "$pubkey" "$root/.ssh/authorized_keys"
    chmod 600 "$root/.ssh/authorized_keys"
    if [[ "$(host_role "$name")" == train ]]; then
        # What the stand-in workload reads instead of the TPU metadata server (test/fixtures/standin).
        local peers=() n
        for n in "${NAMES[@]}"; do [[ "$(host_role "$n")" == train ]] && peers+=("$(host_ip "$n")"); done
        printf 'TPU_WORKER_ID=%s\nTPU_WORKER_HOSTNAMES=%s\n' "$(host_index "$name")" \
            "$(IFS=,; echo "${peers[*]}")" >"$root/.tpu-standin.env"
    else
        rm -f "$root/.tpu-standin.env"
    fi
    # Every host resolves its own name and its neighbours' without DNS (there is none inside: no route).
    {
        printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n'
        local n
        for n in "${NAMES[@]}"; do printf '%s\t%s\n' "$(host_ip "$n")" "$(host_hostname "$n")"; done
    } >"$dir/etc-hosts"
    # The host key is kept across up/down, so a host keeps its identity like a VM that reboots.
    if [[ ! -s "$dir/sshd/ssh_host_ed25519_key" ]]; then
        rm -f "$dir/sshd/ssh_host_ed25519_key" "$dir/sshd/ssh_host_ed25519_key.pub"
        ssh-keygen -q -t ed25519 -N '' -C "root@$(host_hostname "$name")" -f "$dir/sshd/ssh_host_ed25519_key"
    fi
    cat >"$dir/sshd/sshd_config" <<EOF
# sshd of rehearsal host $name ($(host_hostname "$name")), written by test/rehearsal/hosts.sh
ListenAddress $ip:22
ListenAddress 127.0.0.1:22
HostKey $dir/sshd/ssh_host_ed25519_key
PidFile $dir/sshd/sshd.pid
PermitRootLogin prohibit-password
PubkeyAuthentication yes
AuthorizedKeysFile .ssh/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
# No PAM: nothing to authenticate against it here, and no pam_systemd/pam_loginuid surprises in a namespace.
UsePAM no
UseDNS no
PrintMotd no
# The sftp server built into sshd: the openssh-sftp-server package is only a Recommends.
Subsystem sftp internal-sftp
# The Pulumi command provider opens several sessions per host at once.
MaxStartups 100:30:200
MaxSessions 64
LogLevel INFO
EOF
}

create_network() {
    ip link add "$BRIDGE" type bridge
    # No IPv6 on our links: nothing here uses it, and it keeps router solicitations and DAD off the wire.
    sysctl -qw "net.ipv6.conf.$BRIDGE.disable_ipv6=1" 2>/dev/null || true
    ip addr add "$NET.1/24" dev "$BRIDGE"
    ip link set "$BRIDGE" up
}

create_host_network() {
    local name="$1" ns veth ip
    ns="$(host_ns "$name")"
    veth="$(host_veth "$name")"
    ip="$(host_ip "$name")"
    ip netns add "$ns"
    ip link add "$veth" type veth peer name eth0 netns "$ns"
    sysctl -qw "net.ipv6.conf.$veth.disable_ipv6=1" 2>/dev/null || true
    ip link set "$veth" master "$BRIDGE" up
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 2>/dev/null || true
    ip -n "$ns" link set lo up
    ip -n "$ns" addr add "$ip/24" dev eth0
    ip -n "$ns" link set eth0 up
    # Deliberately no default route: the bridge address is on-link, and nothing else is reachable (so no
    # ip_forward, no NAT: a host's traffic cannot leave this machine).
}

start_host_init() {
    local name="$1" ns dir init _
    ns="$(host_ns "$name")"
    dir="$(host_dir "$name")"
    rm -f "$dir/init.ready" "$dir/init.pid"
    # `ip netns exec` enters the network namespace (and remounts /sys for it); unshare then makes the
    # mount, UTS and pid namespaces. --fork because a new pid namespace applies to children only;
    # --mount-proc so that ps/pgrep on the host see only its own processes; slave propagation so that the
    # host's mounts never leak out while later mounts in the root namespace still reach the host.
    # setsid and closed fds: the hosts must not hang on to the caller's session, pipes or our lock.
    setsid ip netns exec "$ns" \
        unshare --mount --uts --pid --fork --mount-proc --propagation slave \
        bash "$STATE/hosts/init.sh" "$dir/root" "$dir/etc-hosts" "$(host_hostname "$name")" "$dir/init.ready" \
        </dev/null >"$dir/init.log" 2>&1 9<&- &
    disown   # bash would otherwise report it as "Killed" if `up` fails and tears it down
    for _ in $(seq 1 100); do
        if [[ -e "$dir/init.ready" ]] && init="$(outer_pid "$ns" 1)"; then
            echo "$init" >"$dir/init.pid"
            return 0
        fi
        sleep 0.05
    done
    cat "$dir/init.log" >&2 || true
    die "host $name: its init did not start within 5 s (log: $dir/init.log)"
}

start_sshd() {
    local name="$1" ns dir init
    ns="$(host_ns "$name")"
    dir="$(host_dir "$name")"
    init="$(outer_pid "$ns" 1)" || die "host $name is not up (no init in $ns); run: hosts.sh up"
    # Privilege separation directory; the file system is shared, so one for all hosts.
    mkdir -p /run/sshd
    chmod 755 /run/sshd
    /usr/sbin/sshd -t -f "$dir/sshd/sshd_config" || die "host $name: sshd rejects $dir/sshd/sshd_config"
    rm -f "$dir/sshd/sshd.pid"
    # nsenter forks into the host's pid namespace; sshd -D stays in the foreground under it, and sshd's
    # sessions inherit all four namespaces.
    setsid nsenter --target "$init" --net --mount --uts --pid -- \
        /usr/sbin/sshd -D -f "$dir/sshd/sshd_config" -E "$dir/sshd/sshd.log" \
        </dev/null >>"$dir/sshd/nsenter.log" 2>&1 9<&- &
    disown
}

# The sshd listener's root-namespace pid (its PidFile holds the pid inside the host's pid namespace).
sshd_pid() {
    local name="$1" inner
    inner="$(cat "$(host_dir "$name")/sshd/sshd.pid" 2>/dev/null)" || return 1
    [[ "$inner" =~ ^[0-9]+$ ]] || return 1
    outer_pid "$(host_ns "$name")" "$inner"
}

wait_for_sshd() {
    local deadline name pending=("$@") still
    deadline=$((SECONDS + ${REHEARSAL_WAIT_SECONDS:-30}))
    while ((${#pending[@]} > 0)); do
        still=()
        for name in "${pending[@]}"; do
            sshd_answers "$(host_ip "$name")" || still+=("$name")
        done
        pending=("${still[@]+"${still[@]}"}")
        ((${#pending[@]} == 0)) && return 0
        if ((SECONDS >= deadline)); then
            for name in "${pending[@]}"; do
                note "sshd log of $name ($(host_dir "$name")/sshd/sshd.log):"
                tail -n 20 "$(host_dir "$name")/sshd/sshd.log" >&2 2>/dev/null || true
                note "$name: sshd pid $(sshd_pid "$name" || echo none); init log: $(tail -n 5 "$(host_dir "$name")/init.log" 2>/dev/null | tr '\n' ' ')"
                note "$name: neighbour entry: $(ip neigh show to "$(host_ip "$name")" dev "$BRIDGE" 2>&1 | tr '\n' ' ')"
            done
            die "sshd did not answer on port 22 within ${REHEARSAL_WAIT_SECONDS:-30} s on: $(for n in "${pending[@]}"; do printf '%s (%s) ' "$n" "$(host_ip "$n")"; done)"
        fi
        sleep 0.2
    done
}

hosts_json() {
    local out='{"train": [' sep='' name
    entry() {
        printf '{"name": "%s", "hostname": "%s", "host": "%s", "port": 22, "netns": "%s"' \
            "$1" "$(host_hostname "$1")" "$(host_ip "$1")" "$(host_ns "$1")"
        if [[ "$(host_role "$1")" == train ]]; then printf ', "workerId": %s' "$(host_index "$1")"; fi
        printf '}'
    }
    for name in "${NAMES[@]}"; do
        [[ "$(host_role "$name")" == train ]] || continue
        out+="$sep$(entry "$name")"
        sep=', '
    done
    out+='], "eval": ['"$(entry eval-w0)"'], "bridge": "'"$NET.1"'", "subnet": "'"$NET.0/24"'", "world": "'"$PREFIX"'"}'
    echo "$out"
}

# Network, init and sshd for each named host (their files already written), then wait until every sshd answers.
start_hosts() {
    local name
    for name in "$@"; do
        create_host_network "$name"
        start_host_init "$name"
        start_sshd "$name"
    done
    wait_for_sshd "$@"
}

cmd_up() {
    (($# == 2)) || usage
    local pubkey="$2"
    require_root
    [[ -r "$pubkey" && -s "$pubkey" ]] || die "public key file '$pubkey' is missing or empty"
    grep -qE '^(ssh-|ecdsa-|sk-)' "$pubkey" || die "'$pubkey' does not look like an OpenSSH public key"
    resolve_state_dir "$1" 1
    take_lock
    load_world 1
    local started=$SECONDS
    ensure_packages
    if [[ -n "$(our_netns)$(our_links)" ]]; then
        note "removing the $PREFIX- hosts that already exist (up recreates them; files under the state dir are kept)"
        teardown || die "could not remove the existing hosts"
    fi
    # Under the lock, so two worlds never pick the same /24. A given subnet that this machine already routes is
    # refused: our bridge route would shadow or be shadowed.
    parse_subnet
    subnet_free "$NET" || die "subnet $NET.0/24 overlaps an existing route; set REHEARSAL_SUBNET to a free /24"

    : >"$STATE/.tpusft-rehearsal"
    # From here on, a failure removes what was made so far (logs stay in the state dir).
    trap 'rc=$?; if ((rc != 0)); then note "up failed; removing the partial hosts"; teardown || true; fi' EXIT
    local name
    mkdir -p "$STATE/hosts"
    printf '%s' "$INIT_PROGRAM" >"$STATE/hosts/init.sh"
    for name in "${NAMES[@]}"; do write_host_files "$name" "$pubkey"; done
    create_network
    start_hosts "${NAMES[@]}"
    trap - EXIT
    hosts_json >"$STATE/hosts.json"
    note "up: ${#NAMES[@]} hosts on $NET.0/24 (bridge $BRIDGE at $NET.1) in $((SECONDS - started)) s; state in $STATE"
    cat "$STATE/hosts.json"
}

# --- status and fault injection ---------------------------------------------------------------------------

cmd_status() {
    (($# == 1)) || usage
    resolve_state_dir "$1" 0
    load_world 0
    require_root
    if link_exists "$BRIDGE"; then
        echo "bridge $BRIDGE: $(ip -4 -o addr show dev "$BRIDGE" | awk '{print $4}') $(cat "/sys/class/net/$BRIDGE/operstate")"
    else
        echo "bridge $BRIDGE: absent"
    fi
    local name ns veth line init sshd
    for name in "${NAMES[@]}"; do
        ns="$(host_ns "$name")"
        veth="$(host_veth "$name")"
        if ! ns_exists "$ns"; then
            echo "$name: absent"
            continue
        fi
        line="$name: netns $ns, $(ip -n "$ns" -4 -o addr show dev eth0 2>/dev/null | awk '{print $4}')"
        line+=", veth $veth $(cat "/sys/class/net/$veth/operstate" 2>/dev/null || echo absent)"
        line+=", $(ns_pids "$ns" | wc -l) processes"
        init="$(outer_pid "$ns" 1 || true)"
        line+=", init ${init:-none}"
        if [[ -n "$STATE" ]]; then
            sshd="$(sshd_pid "$name" || true)"
            line+=", sshd ${sshd:-not running}"
        fi
        if [[ -n "$init" ]]; then
            line+=", hostname $(nsenter --target "$init" --uts hostname 2>/dev/null || echo '?')"
        fi
        echo "$line"
    done
    local leftovers
    leftovers="$(our_links | grep -vx "$BRIDGE" | grep -vE "^$PREFIX-v[te][0-9]+$" || true)"
    [[ -z "$leftovers" ]] || echo "other $PREFIX- links: $(echo "$leftovers" | tr '\n' ' ')"
    if [[ -n "$STATE" ]]; then
        if [[ -f "$STATE/hosts.json" ]]; then echo "hosts.json: $STATE/hosts.json"; else echo "hosts.json: absent"; fi
    fi
}

cmd_stop_sshd() {
    (($# == 2)) || usage
    require_root
    resolve_state_dir "$1" 0
    load_world 0
    check_name "$2"
    take_lock
    local pid _
    pid="$(sshd_pid "$2")" || { note "sshd of $2 is not running"; return 0; }
    # The listener only, as `systemctl stop ssh` does on a VM: open sessions and detached jobs keep running,
    # new connections are refused.
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    rm -f "$(host_dir "$2")/sshd/sshd.pid"
    note "stopped sshd of $2"
}

cmd_start_sshd() {
    (($# == 2)) || usage
    require_root
    resolve_state_dir "$1" 0
    load_world 0
    check_name "$2"
    take_lock
    if sshd_pid "$2" >/dev/null; then note "sshd of $2 is already running"; return 0; fi
    # The host's address comes from its sshd_config, written by `up` with the subnet in force then.
    NET="$(awk '/^ListenAddress/ && $2 !~ /^127\./ {split($2, a, "."); print a[1] "." a[2] "." a[3]; exit}' \
        "$(host_dir "$2")/sshd/sshd_config" 2>/dev/null || true)"
    [[ -n "$NET" ]] || die "no sshd_config for $2 under $STATE; run: hosts.sh up"
    start_sshd "$2"
    wait_for_sshd "$2"
    note "started sshd of $2"
}

cmd_net() {
    (($# == 3)) || usage
    require_root
    resolve_state_dir "$2" 0
    load_world 0
    check_name "$3"
    local veth
    veth="$(host_veth "$3")"
    link_exists "$veth" || die "host $3 is not up (no link $veth)"
    ip link set "$veth" "$1"
    note "$veth ($3) is $1"
}

# --- the control-plane twin: slices ---------------------------------------------------------------------------

slice_file() { echo "$STATE/slices/$1.json"; }

check_slice_name() { [[ "$1" == train || "$1" == eval ]] || die "unknown slice '$1' (train or eval)"; }

check_zone() { [[ "$1" =~ ^[a-z]+-[a-z]+[0-9]-[a-z]$ ]] || die "zone '$1' is not a zone name like us-east5-b"; }

# The hosts of a slice as they exist now (by namespace), in worker order.
slice_hosts_alive() {
    local ns
    for ns in $(our_netns); do
        case "$ns" in "$PREFIX-$1-w"*) echo "${ns#"$PREFIX-"}" ;; esac
    done | sort -t w -k2 -n
}

kill_slice_hosts() {
    local name names=()
    mapfile -t names < <(slice_hosts_alive "$1")
    ((${#names[@]} > 0)) || return 0
    # As VMs shutting down: every host's processes die first, and the network stays up a moment longer, so that
    # each closed connection's last packets (a FIN queued behind unacknowledged output) reach the peer, which then
    # sees the session end instead of waiting on a silent address.
    for name in "${names[@]}"; do kill_ns_processes "$(host_ns "$name")" || true; done
    sleep 1
    for name in "${names[@]}"; do
        ip netns del "$(host_ns "$name")" 2>/dev/null || note "could not delete netns $(host_ns "$name")"
        rm -f "$(host_dir "$name")/sshd/sshd.pid" "$(host_dir "$name")/init.pid" "$(host_dir "$name")/init.ready"
    done
    forget_host_links "${names[@]}"
    wait_reaped
}

# The kernel tears a deleted namespace down in the background, and its veth (whose root-side end is on the bridge)
# goes only then; on a busy machine that takes seconds. A host created again under the same name needs that name
# free, and this machine's neighbour entry for its address still points at the old MAC (connections would stall
# until it expires): give the links 5 s in all to go (the closing connections' last packets pass meanwhile), delete
# those left, and forget the entries.
forget_host_links() {
    local name deadline=$((SECONDS + 5)) left
    while ((SECONDS < deadline)); do
        left=0
        for name in "$@"; do link_exists "$(host_veth "$name")" && left=1; done
        ((left == 0)) && break
        sleep 0.2
    done
    for name in "$@"; do
        if link_exists "$(host_veth "$name")"; then
            ip link del "$(host_veth "$name")" 2>/dev/null || note "could not delete link $(host_veth "$name")"
        fi
        ip neigh flush to "$(host_ip "$name")" dev "$BRIDGE" 2>/dev/null || true
    done
}

# The world's bridge must exist (hosts.sh network or up); NET comes from it.
load_net() {
    link_exists "$BRIDGE" || die "no bridge $BRIDGE for this world: run hosts.sh network first"
    NET="$(ip -4 -o addr show dev "$BRIDGE" | awk '{split($4, a, "/"); split(a[1], b, "."); print b[1] "." b[2] "." b[3]; exit}')"
    [[ -n "$NET" ]] || die "bridge $BRIDGE has no IPv4 address"
}

cmd_network() {
    (($# == 2)) || usage
    local pubkey="$2"
    require_root
    [[ -r "$pubkey" && -s "$pubkey" ]] || die "public key file '$pubkey' is missing or empty"
    resolve_state_dir "$1" 1
    take_lock
    load_world 1
    ensure_packages
    if [[ -n "$(our_netns)$(our_links)" ]]; then teardown || die "could not remove the existing hosts"; fi
    parse_subnet
    subnet_free "$NET" || die "subnet $NET.0/24 overlaps an existing route; set REHEARSAL_SUBNET to a free /24"
    : >"$STATE/.tpusft-rehearsal"
    mkdir -p "$STATE/hosts" "$STATE/slices" "$STATE/zones"
    rm -f "$STATE"/slices/*.json "$STATE"/zones/*
    cp "$pubkey" "$STATE/authorized_key"
    printf '%s' "$INIT_PROGRAM" >"$STATE/hosts/init.sh"
    create_network
    hosts_json >"$STATE/hosts.json"
    note "network: bridge $BRIDGE at $NET.1; no host yet (slice-up creates them)"
    cat "$STATE/hosts.json"
}

cmd_slice_up() {
    (($# == 4)) || usage
    local slice="$2" count="$3" zone="$4"
    require_root
    resolve_state_dir "$1" 0
    load_world 0
    check_slice_name "$slice"
    check_zone "$zone"
    if ! [[ "$count" =~ ^[0-9]+$ ]] || ((count < 1 || count > 16)); then die "host count '$count' must be 1 to 16"; fi
    take_lock
    load_net
    if [[ "$(cat "$STATE/zones/$zone" 2>/dev/null || true)" == none ]]; then
        # What the TPU API answers in a stockout (Terraform's google provider prints it this way).
        die "Error waiting to create Node: Error waiting for Creating Node: Error code 8, message: There is no more capacity in the zone \"$zone\"; you can try in another zone where Cloud TPU Nodes are offered (see https://cloud.google.com/tpu/docs/regions)"
    fi
    local started=$SECONDS name i
    # A leftover of an earlier instance (a preempted one) goes first, as GCP needs the node deleted first.
    kill_slice_hosts "$slice"
    NAMES=()
    for ((i = 0; i < count; i++)); do NAMES+=("$slice-w$i"); done
    trap 'rc=$?; if ((rc != 0)); then note "slice-up failed; removing its hosts"; kill_slice_hosts "$slice"; fi' EXIT
    for name in "${NAMES[@]}"; do
        # A new VM: an empty /root and a new host key.
        rm -rf "$(host_dir "$name")/root" "$(host_dir "$name")/sshd/ssh_host_ed25519_key" "$(host_dir "$name")/sshd/ssh_host_ed25519_key.pub"
        write_host_files "$name" "$STATE/authorized_key"
    done
    REHEARSAL_WAIT_SECONDS="${REHEARSAL_SLICE_WAIT_SECONDS:-90}" start_hosts "${NAMES[@]}"
    trap - EXIT
    local instance hosts="" sep=""
    instance="$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
    for name in "${NAMES[@]}"; do
        hosts+="$sep{\"host\": \"$(host_ip "$name")\", \"port\": 22, \"hostname\": \"$(host_hostname "$name")\"}"
        sep=", "
    done
    printf '{"name": "%s", "instance": "%s", "zone": "%s", "state": "READY", "acceleratorHosts": %s, "createdAt": %s, "hosts": [%s]}\n' \
        "$slice" "$instance" "$zone" "$count" "$(date +%s)" "$hosts" >"$(slice_file "$slice")"
    note "slice-up: $slice ($count hosts in $zone) in $((SECONDS - started)) s"
    cat "$(slice_file "$slice")"
}

cmd_slice_down() {
    (($# == 2)) || usage
    require_root
    resolve_state_dir "$1" 0
    if [[ ! -f "$STATE/world-id" ]]; then note "slice-down: no world under $STATE; nothing to delete"; return 0; fi
    load_world 0
    check_slice_name "$2"
    take_lock
    kill_slice_hosts "$2"
    rm -f "$(slice_file "$2")"
    note "slice-down: $2 deleted"
}

cmd_slice_state() {
    (($# == 2)) || usage
    resolve_state_dir "$1" 0
    check_slice_name "$2"
    local file
    file="$(slice_file "$2")"
    if [[ ! -f "$file" ]]; then echo NOT_FOUND; return 0; fi
    python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["state"])' "$file"
}

cmd_preempt() {
    (($# == 2)) || usage
    require_root
    resolve_state_dir "$1" 0
    load_world 0
    check_slice_name "$2"
    take_lock
    local file
    file="$(slice_file "$2")"
    [[ -f "$file" ]] || die "slice $2 does not exist"
    # The API reports the node PREEMPTED by the time its hosts are gone: whoever sees a connection drop and asks
    # must not be told READY.
    python3 -c 'import json, sys
p = sys.argv[1]; d = json.load(open(p)); d["state"] = "PREEMPTED"; open(p, "w").write(json.dumps(d) + "\n")' "$file"
    kill_slice_hosts "$2"
    note "preempt: slice $2 is PREEMPTED (its hosts are gone)"
}

cmd_zone_capacity() {
    (($# == 3)) || usage
    resolve_state_dir "$1" 0
    check_zone "$2"
    case "$3" in none | ok) ;; *) usage ;; esac
    mkdir -p "$STATE/zones"
    if [[ "$3" == none ]]; then echo none >"$STATE/zones/$2"; else rm -f "$STATE/zones/$2"; fi
    note "zone-capacity: $2 $3"
}

main() {
    (($# >= 1)) || usage
    local cmd="$1"
    shift
    case "$cmd" in
        up) cmd_up "$@" ;;
        down) cmd_down "$@" ;;
        status) cmd_status "$@" ;;
        stop-sshd) cmd_stop_sshd "$@" ;;
        start-sshd) cmd_start_sshd "$@" ;;
        cut-net) cmd_net down "$@" ;;
        restore-net) cmd_net up "$@" ;;
        network) cmd_network "$@" ;;
        slice-up) cmd_slice_up "$@" ;;
        slice-down) cmd_slice_down "$@" ;;
        slice-state) cmd_slice_state "$@" ;;
        preempt) cmd_preempt "$@" ;;
        zone-capacity) cmd_zone_capacity "$@" ;;
        -h | --help | help) usage ;;
        *) usage ;;
    esac
}

main "$@"
