# shellcheck shell=bash
# Shared definitions for lab.sh, node-exec.sh and test-lab.sh. Source it; do not execute it.
#
# Every name the lab creates on the host derives from LAB_PREFIX, and every address from
# LAB_SUBNET, so a lab never collides with anything else on the machine:
#   bridge      ${LAB_PREFIX}br0              host side ${LAB_SUBNET}.1/24
#   netns       ${LAB_PREFIX}-n1 ...          node side eth0 ${LAB_SUBNET}.11, .12, ...
#   host veth   ${LAB_PREFIX}-n1h ...
#   cgroups     /sys/fs/cgroup/*/${LAB_PREFIX}-n1 (docker --cgroup-parent of node n1)
#   iptables    FORWARD rules commented "opensvc-lab:${LAB_PREFIX}"

LAB_DIR="${LAB_DIR:-/var/lib/opensvc-lab}"
LAB_PREFIX="${LAB_PREFIX:-osl}"
LAB_SUBNET="${LAB_SUBNET:-10.203.0}"

lab_validate_env() {
  [[ ${LAB_DIR} == /* && ${LAB_DIR} != "/" ]] || lab_die "LAB_DIR must be an absolute path other than /: '${LAB_DIR}'"
  [[ ${LAB_DIR} != *[[:space:]]* ]] || lab_die "LAB_DIR must not contain whitespace (it is written into ssh configs)"
  LAB_DIR="${LAB_DIR%/}"
  [[ ${LAB_PREFIX} =~ ^[a-z][a-z0-9]{0,7}$ ]] || lab_die "LAB_PREFIX must match [a-z][a-z0-9]{0,7} (interface names are limited to 15 chars)"
  [[ ${LAB_SUBNET} =~ ^[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}$ ]] || lab_die "LAB_SUBNET must be the first three octets of a /24, e.g. 10.203.0"
}

LAB_BRIDGE() { printf '%sbr0' "${LAB_PREFIX}"; }
LAB_IPT_TAG() { printf 'opensvc-lab:%s' "${LAB_PREFIX}"; }

lab_log() { printf '[lab %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
lab_die() { printf '[lab] ERROR: %s\n' "$*" >&2; exit 1; }

# Node naming: nodes are n1..nN; index i is the number.
lab_node_index() {
  local node="$1"
  [[ ${node} =~ ^n([1-9][0-9]?)$ ]] || lab_die "bad node name '${node}' (expected n1..n99)"
  printf '%s' "${BASH_REMATCH[1]}"
}
lab_node_dir()   { printf '%s/%s' "${LAB_DIR}" "$1"; }
lab_node_ns()    { printf '%s-%s' "${LAB_PREFIX}" "$1"; }
lab_node_hveth() { printf '%s-%sh' "${LAB_PREFIX}" "$1"; }
lab_node_addr()  { printf '%s.%d' "${LAB_SUBNET}" "$((10 + $(lab_node_index "$1")))"; }
lab_node_cgroup() { printf '%s-%s' "${LAB_PREFIX}" "$1"; }
lab_node_sock()  { printf 'unix://%s/docker.sock' "$(lab_node_dir "$1")"; }

# A process is alive if it exists and is not a zombie (PID 1 here may not reap orphans).
lab_pid_alive() {
  local pid="$1" state
  [[ ${pid} =~ ^[0-9]+$ ]] || return 1
  [[ -r /proc/${pid}/stat ]] || return 1
  state="$(sed -E 's/^.*\) (.).*$/\1/' "/proc/${pid}/stat" 2>/dev/null)" || return 1
  [[ -n ${state} && ${state} != Z && ${state} != X ]]
}

lab_ns_id() { readlink "/proc/$1/ns/$2" 2>/dev/null; }

# Inode identity of the named network namespace, formatted like /proc/PID/ns/net.
lab_netns_id() {
  local f="/run/netns/$1"
  [[ -e ${f} ]] || return 1
  printf 'net:[%s]' "$(stat -L -c %i "${f}")"
}

# Prints the holder pid of a node if the holder is alive and really is that node's holder:
# in the node's netns, in a mount namespace other than the host's (PID 1's). Guards against pid reuse.
lab_holder_pid() {
  local node="$1" dir pid netid
  dir="$(lab_node_dir "${node}")"
  [[ -r ${dir}/holder.pid ]] || return 1
  pid="$(<"${dir}/holder.pid")"
  lab_pid_alive "${pid}" || return 1
  netid="$(lab_netns_id "$(lab_node_ns "${node}")")" || return 1
  [[ "$(lab_ns_id "${pid}" net)" == "${netid}" ]] || return 1
  [[ "$(lab_ns_id "${pid}" mnt)" != "$(lab_ns_id 1 mnt)" ]] || return 1
  printf '%s' "${pid}"
}

# Run argv inside a node (mount, UTS and network namespaces of its holder). No shell involved.
lab_in_node() {
  local node="$1" pid
  shift
  pid="$(lab_holder_pid "${node}")" || lab_die "node ${node} is not running (no live holder)"
  nsenter --target "${pid}" --mount --uts --net -- "$@"
}

# Nodes listed by the last `up` (LAB_NODES in lab.env), one per line.
lab_nodes() {
  local f="${LAB_DIR}/lab.env" line
  [[ -r ${f} ]] || return 0
  line="$(sed -n 's/^LAB_NODES="\(.*\)"$/\1/p' "${f}")"
  local n
  for n in ${line}; do printf '%s\n' "${n}"; done
}
