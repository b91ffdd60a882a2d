#!/usr/bin/env bash
# OpenSvc lab: turns this Linux machine into N "nodes" for tests and demos.
#
#   lab.sh up N          create/repair nodes n1..nN (idempotent; fast when already up)
#   lab.sh down [--purge] remove everything (keeps LAB_DIR/cache unless --purge)
#   lab.sh status        one line per node, then ping n1->n2 and ssh n1->n3; non-zero if wrong
#
# Environment: LAB_DIR (default /var/lib/opensvc-lab), LAB_PREFIX (default osl),
# LAB_SUBNET (default 10.203.0, a /24), LAB_DISK_MB (default 256),
# LAB_IMAGE / LAB_IMAGE2 (default opensvc/busybox:lab / opensvc/httpd:lab),
# LAB_DOCKER_WAIT seconds (default 60), OPENSVC_AGENT_CMD (optional agent hook),
# OPENSVC_CONNECTION (passed to the agent).
#
# Each node nX is:
#   - a network namespace ${LAB_PREFIX}-nX, eth0 = veth into bridge ${LAB_PREFIX}br0
#   - a holder process (sleep) in its own mount + UTS namespaces (hostname nX) that has entered
#     the netns; everything for the node runs via `nsenter --target HOLDER --mount --uts --net`.
#     (`ip netns exec` is not used: it remounts /sys and hides the cgroup mounts dockerd needs.)
#   - private bind mounts inside that mount namespace: /etc/hosts (lab hosts file), /srv, /run, /tmp,
#     and LAB_DIR/nX/var on /var/lib/opensvc (the agent's var dir: the same path on every node, as on real hosts)
#   - its own dockerd (socket LAB_DIR/nX/docker.sock, also /run/docker.sock inside the node)
#   - its own sshd on ADDR:22, lab key trusted everywhere, known_hosts with every node
#   - a btrfs "disk" (label svc1, subvolumes docker and data) on a loop device; n1 and n2 share
#     one (primary site shared disk), n3+ have their own. Paths in LAB_DIR/nodes.env.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/lib.sh"
lab_validate_env

LAB_DISK_MB="${LAB_DISK_MB:-256}"
LAB_IMAGE="${LAB_IMAGE:-opensvc/busybox:lab}"
LAB_IMAGE2="${LAB_IMAGE2:-opensvc/httpd:lab}"
LAB_DOCKER_WAIT="${LAB_DOCKER_WAIT:-60}"
DOCKER="${LAB_DOCKER_CLI:-docker}"
BR="$(LAB_BRIDGE)"
IPT_TAG="$(LAB_IPT_TAG)"
IPT_RULE=(FORWARD -i "${BR}" -o "${BR}" -m comment --comment "${IPT_TAG}" -j ACCEPT)

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# wait_until TIMEOUT_S DESCRIPTION CMD... : poll CMD every 0.2 s, fail after TIMEOUT_S.
wait_until() {
  local timeout="$1" what="$2" deadline
  shift 2
  deadline=$(($(date +%s) + timeout))
  until "$@" >/dev/null 2>&1; do
    if (($(date +%s) >= deadline)); then
      lab_log "timed out after ${timeout}s waiting for ${what}"
      return 1
    fi
    sleep 0.2
  done
}

# kill_and_wait TIMEOUT_S PID... : SIGTERM, wait (bounded), then SIGKILL and wait again (bounded).
kill_and_wait() {
  local timeout="$1" pid deadline left
  shift
  (($# > 0)) || return 0
  kill -TERM "$@" 2>/dev/null || true
  deadline=$(($(date +%s) + timeout))
  while :; do
    left=()
    for pid in "$@"; do lab_pid_alive "${pid}" && left+=("${pid}"); done
    ((${#left[@]} == 0)) && return 0
    (($(date +%s) >= deadline)) && break
    sleep 0.2
  done
  kill -KILL "${left[@]}" 2>/dev/null || true
  deadline=$(($(date +%s) + 5))
  for pid in "${left[@]}"; do
    while lab_pid_alive "${pid}" && (($(date +%s) < deadline)); do sleep 0.1; done
  done
}

pidfile_pid() { [[ -r $1 ]] && head -n1 "$1" | tr -dc '0-9'; }

# A daemon from a pidfile is "ours" if alive, has the expected comm and lives in the node's mount ns.
node_daemon_pid() {
  local node="$1" pidfile="$2" comm="$3" pid hp
  pid="$(pidfile_pid "${pidfile}")" || return 1
  [[ -n ${pid} ]] && lab_pid_alive "${pid}" || return 1
  if [[ -n ${comm} ]]; then
    [[ "$(cat "/proc/${pid}/comm" 2>/dev/null)" == "${comm}" ]] || return 1
  fi
  hp="$(lab_holder_pid "${node}")" || return 1
  [[ "$(lab_ns_id "${pid}" mnt)" == "$(lab_ns_id "${hp}" mnt)" ]] || return 1
  printf '%s' "${pid}"
}

# ---------------------------------------------------------------------------------------------
# up
# ---------------------------------------------------------------------------------------------

require_tools() {
  local t missing=()
  for t in ip nsenter unshare setsid losetup mkfs.btrfs btrfs mount umount findmnt dockerd \
    "${DOCKER}" ssh ssh-keygen /usr/sbin/sshd busybox tar stat awk; do
    command -v "${t}" >/dev/null 2>&1 || missing+=("${t}")
  done
  ((${#missing[@]} == 0)) || lab_die "missing tools: ${missing[*]} (run lab/install-deps.sh)"
  [[ ${EUID} -eq 0 ]] || lab_die "must run as root"
}

setup_bridge() {
  if ! ip link show dev "${BR}" >/dev/null 2>&1; then
    # Refuse to create the lab on an address range something else already uses.
    if ip -4 -o addr show | awk '{print $2, $4}' | grep -q " ${LAB_SUBNET//./\\.}\."; then
      lab_die "subnet ${LAB_SUBNET}.0/24 is already in use on this host; set LAB_SUBNET"
    fi
    ip link add name "${BR}" type bridge
  fi
  ip addr replace "${LAB_SUBNET}.1/24" dev "${BR}"
  ip link set dev "${BR}" up
}

# With br_netfilter, bridged frames traverse iptables FORWARD; a DROP policy (docker sets one)
# would silently drop node-to-node traffic. One tagged ACCEPT rule for the lab bridge only.
# Node-to-node traffic is L2 on the bridge, so ip_forward is not needed and is left alone.
setup_iptables() {
  command -v iptables >/dev/null 2>&1 || return 0
  iptables -w 5 -C "${IPT_RULE[@]}" 2>/dev/null || iptables -w 5 -I "${IPT_RULE[@]}"
}

write_lab_env() {
  local nodes="$1"
  {
    printf 'LAB_NODES="%s"\n' "${nodes}"
    printf 'LAB_PREFIX="%s"\nLAB_SUBNET="%s"\nLAB_BRIDGE="%s"\n' "${LAB_PREFIX}" "${LAB_SUBNET}" "${BR}"
  } >"${LAB_DIR}/lab.env"
}

# Rewritten in place (same inode) so existing bind mounts of it see the new content.
write_hosts() {
  local node
  {
    printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n'
    printf '%s.1\t%s-host\n' "${LAB_SUBNET}" "${LAB_PREFIX}"
    for node in "$@"; do printf '%s\t%s\n' "$(lab_node_addr "${node}")" "${node}"; done
  } >"${LAB_DIR}/hosts.new"
  if [[ -f ${LAB_DIR}/hosts ]]; then
    cat "${LAB_DIR}/hosts.new" >"${LAB_DIR}/hosts"
    rm -f "${LAB_DIR}/hosts.new"
  else
    mv "${LAB_DIR}/hosts.new" "${LAB_DIR}/hosts"
  fi
  chmod 0644 "${LAB_DIR}/hosts"
}

setup_node_net() {
  local node="$1" ns hv pv addr
  ns="$(lab_node_ns "${node}")"
  hv="$(lab_node_hveth "${node}")"
  pv="${LAB_PREFIX}-${node}p"
  addr="$(lab_node_addr "${node}")"
  [[ -e /run/netns/${ns} ]] || ip netns add "${ns}"
  if ! ip -n "${ns}" link show dev eth0 >/dev/null 2>&1; then
    ip link del dev "${hv}" 2>/dev/null || true
    ip link add name "${hv}" type veth peer name "${pv}"
    ip link set dev "${pv}" netns "${ns}"
    ip -n "${ns}" link set dev "${pv}" name eth0
  fi
  ip link set dev "${hv}" master "${BR}"
  ip link set dev "${hv}" up
  ip -n "${ns}" addr replace "${addr}/24" dev eth0
  ip -n "${ns}" link set dev lo up
  ip -n "${ns}" link set dev eth0 up
}

holder_started() {
  local pid="$1" netid="$2"
  [[ "$(lab_ns_id "${pid}" net)" == "${netid}" && "$(lab_ns_id "${pid}" mnt)" != "$(lab_ns_id 1 mnt)" ]]
}

# bind_in_node HOLDER SRC DST: idempotent private bind mount inside the node's mount namespace.
bind_in_node() {
  local hp="$1" src="$2" dst="$3"
  if nsenter --target "${hp}" --mount -- findmnt -rn --mountpoint "${dst}" >/dev/null 2>&1; then
    return 0
  fi
  nsenter --target "${hp}" --mount -- mount --bind "${src}" "${dst}"
}

setup_node_holder() {
  local node="$1" dir ns netid hp
  dir="$(lab_node_dir "${node}")"
  ns="$(lab_node_ns "${node}")"
  mkdir -p "${dir}"/{srv,tmp,run/sshd,run/lock,docker,ssh,var}
  chmod 1777 "${dir}/tmp"
  chmod 0755 "${dir}/run/sshd"
  if ! hp="$(lab_holder_pid "${node}")"; then
    # A dead holder leaves the node's daemons in an orphaned namespace: clear them out first,
    # or a second dockerd would fight the old one over the same data-root.
    if [[ -r ${dir}/mntns ]]; then
      lab_log "${node}: holder gone, restarting the node"
      stop_node "${node}"
      rm -f "${dir}/mntns" "${dir}/holder.pid"
    fi
    netid="$(lab_netns_id "${ns}")" || lab_die "netns ${ns} missing"
    # unshare: new mount (private propagation) + UTS namespaces; nsenter joins the netns;
    # sleep is the long-lived holder. No fork in the chain, so $! is the holder itself.
    setsid unshare --mount --uts --propagation private -- \
      nsenter --net="/run/netns/${ns}" -- sleep infinity </dev/null >/dev/null 2>&1 &
    hp=$!
    wait_until 10 "holder of ${node}" holder_started "${hp}" "${netid}" ||
      lab_die "holder for ${node} did not enter its namespaces"
    printf '%s\n' "${hp}" >"${dir}/holder.pid"
    lab_ns_id "${hp}" mnt >"${dir}/mntns"
  fi
  nsenter --target "${hp}" --uts -- busybox hostname "${node}"
  bind_in_node "${hp}" "${LAB_DIR}/hosts" /etc/hosts
  bind_in_node "${hp}" "${dir}/srv" /srv
  bind_in_node "${hp}" "${dir}/tmp" /tmp
  bind_in_node "${hp}" "${dir}/run" /run
  # The agent's var dir is /var/lib/opensvc on every node (a sync sender names paths on its target with its own),
  # so each node gets a private one. The host only gains the empty mount point.
  mkdir -p /var/lib/opensvc
  bind_in_node "${hp}" "${dir}/var" /var/lib/opensvc
  # Only hide the host's docker data when the host has one; dockerd uses --data-root anyway.
  if [[ -d /var/lib/docker ]]; then
    bind_in_node "${hp}" "${dir}/docker" /var/lib/docker
  fi
  # The default docker socket path inside the node points to the node's own daemon.
  ln -sfn "${dir}/docker.sock" "${dir}/run/docker.sock"
  # Debian's bash sources ~/.bashrc for every command sshd runs (built with SSH_SOURCE_BASHRC): a host whose root
  # starts pyenv or the like there paid it on each ssh exec into a node (0.6 s to 2 s here, every sync step and test).
  # The nodes are not the host's login sessions: root's .bashrc is empty inside them.
  local home
  home="$(getent passwd root | cut -d: -f6)"
  if [[ -n ${home} && -f ${home}/.bashrc ]]; then
    : >"${LAB_DIR}/empty-bashrc"
    bind_in_node "${hp}" "${LAB_DIR}/empty-bashrc" "${home}/.bashrc"
  fi
}

setup_ssh_keys() {
  local node dir
  mkdir -p "${LAB_DIR}/ssh"
  chmod 0700 "${LAB_DIR}/ssh"
  if [[ ! -f ${LAB_DIR}/ssh/id_ed25519 ]]; then
    ssh-keygen -q -t ed25519 -N '' -C "opensvc-lab-${LAB_PREFIX}" -f "${LAB_DIR}/ssh/id_ed25519"
  fi
  printf 'from="%s.*" %s\n' "${LAB_SUBNET}" "$(cat "${LAB_DIR}/ssh/id_ed25519.pub")" \
    >"${LAB_DIR}/ssh/authorized_keys"
  chmod 0600 "${LAB_DIR}/ssh/authorized_keys"
  : >"${LAB_DIR}/ssh/known_hosts.new"
  for node in "$@"; do
    dir="$(lab_node_dir "${node}")"
    if [[ ! -f ${dir}/ssh/ssh_host_ed25519_key ]]; then
      ssh-keygen -q -t ed25519 -N '' -C "${node}" -f "${dir}/ssh/ssh_host_ed25519_key"
    fi
    printf '%s,%s %s\n' "${node}" "$(lab_node_addr "${node}")" \
      "$(cut -d' ' -f1,2 "${dir}/ssh/ssh_host_ed25519_key.pub")" >>"${LAB_DIR}/ssh/known_hosts.new"
    cat >"${dir}/ssh/sshd_config" <<EOF
# generated by lab.sh for node ${node}
ListenAddress $(lab_node_addr "${node}"):22
HostKey ${dir}/ssh/ssh_host_ed25519_key
PidFile ${dir}/sshd.pid
AuthorizedKeysFile ${LAB_DIR}/ssh/authorized_keys
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes yes
PrintMotd no
X11Forwarding no
AcceptEnv LANG LC_* OPENSVC_*
Subsystem sftp internal-sftp
EOF
  done
  mv "${LAB_DIR}/ssh/known_hosts.new" "${LAB_DIR}/ssh/known_hosts"
  {
    printf '# OpenSvc lab ssh client config: ssh -F %s/ssh_config n1\n' "${LAB_DIR}"
    for node in "$@"; do
      printf 'Host %s\n  HostName %s\n' "${node}" "$(lab_node_addr "${node}")"
    done
    printf 'Host *\n'
    printf '  User root\n  Port 22\n'
    printf '  IdentityFile %s/ssh/id_ed25519\n  IdentitiesOnly yes\n' "${LAB_DIR}"
    printf '  UserKnownHostsFile %s/ssh/known_hosts\n  GlobalKnownHostsFile /dev/null\n' "${LAB_DIR}"
    printf '  StrictHostKeyChecking yes\n  BatchMode yes\n  ConnectTimeout 5\n  LogLevel ERROR\n'
  } >"${LAB_DIR}/ssh_config"
}

# make_disk IMG: sparse image, btrfs label svc1, subvolumes docker and data; verified by mounting
# (loop, in a throw-away private mount namespace) before it gets its final name.
make_disk() {
  local img="$1" tmp="$1.tmp" mnt="${LAB_DIR}/disks/.verify"
  [[ -f ${img} ]] && return 0
  rm -f "${tmp}"
  mkdir -p "${mnt}"
  truncate -s "${LAB_DISK_MB}M" "${tmp}"
  mkfs.btrfs -q -f -L svc1 "${tmp}" >/dev/null
  unshare --mount --propagation private -- sh -euc '
    mount -o loop "$1" "$2"
    btrfs -q subvolume create "$2/docker"
    btrfs -q subvolume create "$2/data"
    umount "$2"
    mount -o loop,subvol=data "$1" "$2"
    umount "$2"
  ' lab-make-disk "${tmp}" "${mnt}"
  rmdir "${mnt}"
  mv "${tmp}" "${img}"
}

attach_disk() {
  local img="$1" dev
  dev="$(losetup -n -O NAME -j "${img}" | head -n1)"
  if [[ -z ${dev} ]]; then
    dev="$(losetup --find --show "${img}")"
  fi
  printf '%s' "${dev}"
}

node_disk_img() {
  local i
  i="$(lab_node_index "$1")"
  if ((i <= 2)); then
    printf '%s/disks/svc1-site1-shared.img' "${LAB_DIR}"
  else
    printf '%s/disks/svc1-%s.img' "${LAB_DIR}" "$1"
  fi
}

setup_disks() {
  local node img dev
  mkdir -p "${LAB_DIR}/disks"
  {
    printf '# generated by lab.sh: node -> block device holding its btrfs "svc1" (subvols docker, data)\n'
    printf '# n1 and n2 share one device (primary site shared disk).\n'
    printf 'LAB_DIR=%s\nLAB_SSH_CONFIG=%s/ssh_config\n' "${LAB_DIR}" "${LAB_DIR}"
  } >"${LAB_DIR}/nodes.env.new"
  for node in "$@"; do
    img="$(node_disk_img "${node}")"
    make_disk "${img}"
    dev="$(attach_disk "${img}")"
    [[ -b ${dev} ]] || lab_die "loop device for ${img} not found"
    local up="${node^^}"
    {
      printf 'LAB_%s_DEV=%s\n' "${up}" "${dev}"
      printf 'LAB_%s_IMG=%s\n' "${up}" "${img}"
      printf 'LAB_%s_ADDR=%s\n' "${up}" "$(lab_node_addr "${node}")"
      printf 'LAB_%s_DOCKER_HOST=%s\n' "${up}" "$(lab_node_sock "${node}")"
    } >>"${LAB_DIR}/nodes.env.new"
  done
  mv "${LAB_DIR}/nodes.env.new" "${LAB_DIR}/nodes.env"
}

build_rootfs() {
  local tar="${LAB_DIR}/cache/busybox-rootfs.tar" root applet
  [[ -f ${tar} ]] && return 0
  if ldd /bin/busybox >/dev/null 2>&1; then
    lab_die "/bin/busybox is dynamically linked; install busybox-static"
  fi
  mkdir -p "${LAB_DIR}/cache"
  root="$(mktemp -d "${LAB_DIR}/cache/rootfs.XXXXXX")"
  mkdir -p "${root}"/{bin,etc,root,tmp,proc,sys,dev,var/www,usr}
  chmod 1777 "${root}/tmp"
  cp /bin/busybox "${root}/bin/busybox"
  while read -r applet; do
    [[ ${applet} == busybox || -z ${applet} ]] || ln -s busybox "${root}/bin/${applet}"
  done < <(/bin/busybox --list)
  ln -s bin "${root}/sbin"
  ln -s ../bin "${root}/usr/bin"
  ln -s ../bin "${root}/usr/sbin"
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"${root}/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"${root}/etc/group"
  printf 'opensvc lab\n' >"${root}/var/www/index.html"
  tar --numeric-owner --owner=0 --group=0 -C "${root}" -cf "${tar}.tmp" .
  rm -rf "${root}"
  mv "${tar}.tmp" "${tar}"
}

dockerd_pid() { node_daemon_pid "$1" "$(lab_node_dir "$1")/dockerd.pid" dockerd; }
sshd_pid() { node_daemon_pid "$1" "$(lab_node_dir "$1")/sshd.pid" sshd; }
agent_pid() { node_daemon_pid "$1" "$(lab_node_dir "$1")/agent.pid" ""; }

start_dockerd() {
  local node="$1" dir
  dir="$(lab_node_dir "${node}")"
  dockerd_pid "${node}" >/dev/null && return 0
  printf '{}\n' >"${dir}/daemon.json"
  rm -f "${dir}/dockerd.pid" "${dir}/docker.sock"
  mkdir -p "${dir}/run/docker"
  setsid nsenter --target "$(lab_holder_pid "${node}")" --mount --uts --net -- \
    dockerd --config-file "${dir}/daemon.json" \
    --bridge=none --iptables=false --ip-masq=false --ip6tables=false --userland-proxy=false \
    --data-root "${dir}/docker" --exec-root "${dir}/run/docker" --pidfile "${dir}/dockerd.pid" \
    --exec-opt native.cgroupdriver=cgroupfs --cgroup-parent "$(lab_node_cgroup "${node}")" \
    --shutdown-timeout 3 \
    -H "$(lab_node_sock "${node}")" </dev/null >>"${dir}/dockerd.log" 2>&1 &
}

# Bounded even when a daemon accepts connections but never answers.
docker_ok() { timeout -k 2 10 "${DOCKER}" -H "$(lab_node_sock "$1")" info --format '{{.ServerVersion}}'; }

wait_dockerd() {
  local node="$1" dir deadline
  dir="$(lab_node_dir "${node}")"
  deadline=$(($(date +%s) + LAB_DOCKER_WAIT))
  until docker_ok "${node}" >/dev/null 2>&1; do
    if (($(date +%s) >= deadline)); then
      tail -n 20 "${dir}/dockerd.log" >&2 || true
      lab_die "dockerd of ${node} did not answer within ${LAB_DOCKER_WAIT}s (log: ${dir}/dockerd.log)"
    fi
    sleep 0.3
  done
}

sshd_listening() {
  local node="$1"
  lab_in_node "${node}" timeout -k 1 3 bash -c 'exec 3<>"/dev/tcp/$1/22"' lab-probe "$(lab_node_addr "${node}")"
}

start_sshd() {
  local node="$1" dir
  dir="$(lab_node_dir "${node}")"
  sshd_pid "${node}" >/dev/null && return 0
  rm -f "${dir}/sshd.pid"
  lab_in_node "${node}" /usr/sbin/sshd -t -f "${dir}/ssh/sshd_config"
  # sshd daemonizes itself inside the node's namespaces and writes its PidFile.
  # -E: sshd's own log; anything it prints before daemonizing goes to sshd.start.log.
  lab_in_node "${node}" /usr/sbin/sshd -f "${dir}/ssh/sshd_config" -E "${dir}/sshd.log" \
    </dev/null >>"${dir}/sshd.start.log" 2>&1
  wait_until 10 "sshd of ${node}" sshd_pid "${node}" || lab_die "sshd of ${node} did not start (see ${dir}/sshd.log)"
  wait_until 10 "sshd of ${node} listening" sshd_listening "${node}" || lab_die "sshd of ${node} not listening"
}

image_present() { "${DOCKER}" -H "$(lab_node_sock "$1")" image inspect "$2" >/dev/null 2>&1; }

# Import into n1, then copy n1 -> n2 with save|load so both have the same image ids, as if both
# had pulled from one registry (no registry is reachable here).
setup_images() {
  local tar="${LAB_DIR}/cache/busybox-rootfs.tar" n1sock
  n1sock="$(lab_node_sock n1)"
  if ! image_present n1 "${LAB_IMAGE}"; then
    "${DOCKER}" -H "${n1sock}" import --change 'CMD ["/bin/sh"]' \
      --message "opensvc lab busybox base" "${tar}" "${LAB_IMAGE}" >/dev/null
  fi
  if ! image_present n1 "${LAB_IMAGE2}"; then
    "${DOCKER}" -H "${n1sock}" import \
      --change 'CMD ["httpd", "-f", "-p", "80", "-h", "/var/www"]' --change 'EXPOSE 80' \
      --message "opensvc lab busybox httpd" "${tar}" "${LAB_IMAGE2}" >/dev/null
  fi
  if [[ -n $(lab_holder_pid n2 2>/dev/null) ]]; then
    if ! image_present n2 "${LAB_IMAGE}" || ! image_present n2 "${LAB_IMAGE2}"; then
      "${DOCKER}" -H "${n1sock}" save "${LAB_IMAGE}" "${LAB_IMAGE2}" |
        "${DOCKER}" -H "$(lab_node_sock n2)" load >/dev/null
    fi
  fi
}

start_agent() {
  local node="$1" dir hp argv=()
  [[ -n ${OPENSVC_AGENT_CMD:-} ]] || return 0
  dir="$(lab_node_dir "${node}")"
  agent_pid "${node}" >/dev/null && return 0
  read -r -a argv <<<"${OPENSVC_AGENT_CMD}"
  ((${#argv[@]} > 0)) || return 0
  hp="$(lab_holder_pid "${node}")"
  # The node has its own /tmp, /run and /srv: the agent binary must live elsewhere.
  if ! nsenter --target "${hp}" --mount -- sh -c 'command -v "$1"' lab-probe "${argv[0]}" >/dev/null; then
    lab_die "OPENSVC_AGENT_CMD: '${argv[0]}' is not executable inside node ${node} (nodes have private /tmp, /run, /srv)"
  fi
  # setsid and nsenter exec in place, so $! is the agent's pid.
  # OPENSVC_CONNECTION (and the rest of the environment) is inherited as is. Its var dir is the node's private
  # /var/lib/opensvc; its private dockerds use cgroupfs under the node's cgroup, as the lab's own dockerd does,
  # so `down` finds every container process.
  OPENSVC_NODE="${node}" OPENSVC_LAB_DIR="${LAB_DIR}" \
    OPENSVC_DOCKERD_EXTRA_ARGS="--exec-opt native.cgroupdriver=cgroupfs --cgroup-parent ${LAB_PREFIX}-${node}" \
    setsid nsenter --target "${hp}" --mount --uts --net -- \
    "${argv[@]}" --node "${node}" </dev/null >>"${dir}/agent.log" 2>&1 &
  printf '%s\n' "$!" >"${dir}/agent.pid"
  sleep 0.3
  if ! agent_pid "${node}" >/dev/null; then
    tail -n 5 "${dir}/agent.log" >&2 || true
    lab_die "agent of ${node} exited at start (log: ${dir}/agent.log)"
  fi
}

cmd_up() {
  local n="${1:-}" i node nodes=() t0 t
  [[ ${n} =~ ^[1-9][0-9]?$ ]] || lab_die "usage: lab.sh up N   (N = 1..99)"
  require_tools
  t0="$(now)"
  for ((i = 1; i <= n; i++)); do nodes+=("n${i}"); done
  # Keep nodes a previous `up` created beyond N (they stay listed until `down`).
  local prev
  while read -r prev; do
    [[ -n ${prev} && " ${nodes[*]} " != *" ${prev} "* ]] && nodes+=("${prev}")
  done < <(lab_nodes)
  mkdir -p "${LAB_DIR}/cache"
  chmod 0755 "${LAB_DIR}"
  write_lab_env "${nodes[*]}"

  t="$(now)"
  # `ip netns add` creates the /run/netns mount point on first use; remember if we caused it.
  [[ -e /run/netns ]] || : >"${LAB_DIR}/created-run-netns"
  setup_bridge
  setup_iptables
  write_hosts "${nodes[@]}"
  for node in "${nodes[@]}"; do
    setup_node_net "${node}"
    setup_node_holder "${node}"
  done
  lab_log "network + namespaces: $(elapsed "${t}")s"

  t="$(now)"
  setup_ssh_keys "${nodes[@]}"
  setup_disks "${nodes[@]}"
  build_rootfs
  lab_log "keys + disks + rootfs: $(elapsed "${t}")s"

  t="$(now)"
  for node in "${nodes[@]}"; do start_dockerd "${node}"; done
  for node in "${nodes[@]}"; do start_sshd "${node}"; done
  for node in "${nodes[@]}"; do wait_dockerd "${node}"; done
  lab_log "dockerd + sshd: $(elapsed "${t}")s"

  t="$(now)"
  setup_images
  lab_log "images: $(elapsed "${t}")s"
  for node in "${nodes[@]}"; do start_agent "${node}"; done
  lab_log "up ${#nodes[@]} nodes in $(elapsed "${t0}")s (config: ${LAB_DIR}/nodes.env, ssh -F ${LAB_DIR}/ssh_config)"
}

# ---------------------------------------------------------------------------------------------
# status
# ---------------------------------------------------------------------------------------------

cmd_status() {
  local rc=0 node dir hp dev img addr h d s k a nodes=()
  mapfile -t nodes < <(lab_nodes)
  if ((${#nodes[@]} == 0)); then
    echo "lab: not up (no ${LAB_DIR}/lab.env)"
    return 1
  fi
  [[ -r ${LAB_DIR}/nodes.env ]] || { echo "lab: ${LAB_DIR}/nodes.env missing"; return 1; }
  for node in "${nodes[@]}"; do
    dir="$(lab_node_dir "${node}")"
    addr="$(lab_node_addr "${node}")"
    h=ok d=FAIL s=FAIL k=FAIL a=-
    hp="$(lab_holder_pid "${node}")" || h=FAIL
    if [[ ${h} == ok ]]; then
      docker_ok "${node}" >/dev/null 2>&1 && d=ok
      sshd_pid "${node}" >/dev/null && sshd_listening "${node}" >/dev/null 2>&1 && s=ok
    fi
    dev="$(sed -n "s/^LAB_${node^^}_DEV=//p" "${LAB_DIR}/nodes.env")"
    img="$(sed -n "s/^LAB_${node^^}_IMG=//p" "${LAB_DIR}/nodes.env")"
    if [[ -n ${dev} && -b ${dev} ]] && losetup -n -O NAME -j "${img}" | grep -qx "${dev}"; then
      k="${dev}"
    fi
    if [[ -n ${OPENSVC_AGENT_CMD:-} || -f ${dir}/agent.pid ]]; then
      a=FAIL
      agent_pid "${node}" >/dev/null && a=ok
    fi
    printf '%-4s %-15s holder=%-4s dockerd=%-4s sshd=%-4s disk=%-12s agent=%s\n' \
      "${node}" "${addr}" "${h}" "${d}" "${s}" "${k}" "${a}"
    [[ ${h} == ok && ${d} == ok && ${s} == ok && ${k} != FAIL && ${a} != FAIL ]] || rc=1
  done
  if ((${#nodes[@]} >= 2)); then
    if lab_in_node n1 timeout -k 1 5 busybox ping -c 1 -W 2 n2 >/dev/null 2>&1; then
      echo "check ping n1->n2: ok"
    else
      echo "check ping n1->n2: FAIL"
      rc=1
    fi
  fi
  local target="n3" out
  ((${#nodes[@]} >= 3)) || target="${nodes[-1]}"
  if out="$(lab_in_node n1 timeout -k 2 20 ssh -F "${LAB_DIR}/ssh_config" "${target}" hostname 2>&1)" && [[ ${out} == "${target}" ]]; then
    echo "check ssh n1->${target} (strict host keys): ok"
  else
    echo "check ssh n1->${target} (strict host keys): FAIL ${out}"
    rc=1
  fi
  return "${rc}"
}

# ---------------------------------------------------------------------------------------------
# down
# ---------------------------------------------------------------------------------------------

# Every pid whose mount namespace is MNTID (a /proc/PID/ns/mnt link value).
pids_in_mntns() {
  local want="$1" p
  [[ -n ${want} ]] || return 0
  for p in /proc/[0-9]*; do
    p="${p#/proc/}"
    [[ ${p} == "$$" ]] && continue
    [[ "$(readlink "/proc/${p}/ns/mnt" 2>/dev/null)" == "${want}" ]] && printf '%s\n' "${p}"
  done
}

# All pids in any controller's cgroup subtree named NAME (containers of a node's dockerd).
pids_in_cgroup() {
  local name="$1" f
  for f in /sys/fs/cgroup/*/"${name}" /sys/fs/cgroup/"${name}"; do
    [[ -d ${f} ]] || continue
    find "${f}" -name cgroup.procs -exec cat {} + 2>/dev/null
  done | sort -u
}

remove_cgroups() {
  local name="$1" f
  for f in /sys/fs/cgroup/*/"${name}" /sys/fs/cgroup/"${name}"; do
    [[ -d ${f} ]] || continue
    find "${f}" -depth -type d -exec rmdir {} \; 2>/dev/null || true
  done
}

stop_node() {
  local node="$1" dir ns mntid pid pids=() hp=""
  dir="$(lab_node_dir "${node}")"
  ns="$(lab_node_ns "${node}")"
  hp="$(lab_holder_pid "${node}" 2>/dev/null)" || hp=""
  mntid=""
  [[ -n ${hp} ]] && mntid="$(lab_ns_id "${hp}" mnt)"
  [[ -z ${mntid} && -r ${dir}/mntns ]] && mntid="$(<"${dir}/mntns")"

  # Containers first, hard: this is a lab teardown, and a container whose PID 1 ignores SIGTERM
  # would otherwise hold dockerd's shutdown for its stop timeout and more.
  local t
  t="$(now)"
  mapfile -t pids < <(pids_in_cgroup "$(lab_node_cgroup "${node}")")
  ((${#pids[@]} == 0)) || kill -KILL "${pids[@]}" 2>/dev/null || true
  # Then the daemons, politely: agent, sshd, then dockerd (which stops its containerd).
  if pid="$(agent_pid "${node}" 2>/dev/null)"; then kill_and_wait 10 "${pid}"; fi
  if pid="$(sshd_pid "${node}" 2>/dev/null)"; then kill_and_wait 5 "${pid}"; fi
  lab_log "${node}: agent+sshd stopped in $(elapsed "${t}")s"
  t="$(now)"
  if pid="$(dockerd_pid "${node}" 2>/dev/null)"; then kill_and_wait 30 "${pid}"; fi
  lab_log "${node}: dockerd stopped in $(elapsed "${t}")s"
  t="$(now)"

  # Then everything left in the node: its containers' cgroups, its mount ns, its netns.
  mapfile -t pids < <(pids_in_cgroup "$(lab_node_cgroup "${node}")")
  kill_and_wait 5 "${pids[@]}"
  mapfile -t pids < <(
    pids_in_mntns "${mntid}"
    [[ -e /run/netns/${ns} ]] && ip netns pids "${ns}" 2>/dev/null
  )
  local others=()
  for pid in "${pids[@]}"; do [[ ${pid} != "${hp}" && ${pid} != "$$" ]] && others+=("${pid}"); done
  kill_and_wait 5 "${others[@]}"
  [[ -n ${hp} ]] && kill_and_wait 5 "${hp}"
  remove_cgroups "$(lab_node_cgroup "${node}")"
  lab_log "${node}: namespace swept in $(elapsed "${t}")s"
}

loop_devs_of_lab() {
  losetup -n -l -O NAME,BACK-FILE 2>/dev/null | awk -v d="${LAB_DIR}/" 'index($2, d) == 1 { print $1 }'
}

cmd_down() {
  local purge=0 t0 node nodes=() ns dev mp
  [[ ${1:-} == --purge ]] && purge=1
  [[ ${EUID} -eq 0 ]] || lab_die "must run as root"
  t0="$(now)"
  # Nodes: recorded ones, node dirs, and any netns with our prefix (in case state files are gone).
  mapfile -t nodes < <(
    {
      lab_nodes
      for d in "${LAB_DIR}"/n[0-9]*; do [[ -d ${d} ]] && basename "${d}"; done
      ip netns list 2>/dev/null | awk '{print $1}' | sed -n "s/^${LAB_PREFIX}-\(n[0-9][0-9]*\)$/\1/p"
    } | sort -u
  )
  # Nodes are independent: stop them in parallel, then check every one of them finished.
  local bg=() rc=0 p
  for node in "${nodes[@]}"; do
    [[ -n ${node} ]] || continue
    stop_node "${node}" &
    bg+=("$!")
  done
  for p in "${bg[@]}"; do wait "${p}" || rc=1; done
  ((rc == 0)) || lab_log "some node did not stop cleanly; continuing with the teardown"

  # Host-side mounts under LAB_DIR (none in normal operation; a test may have left one).
  while read -r mp; do
    [[ -n ${mp} ]] || continue
    umount "${mp}" 2>/dev/null || umount -l "${mp}" || true
  done < <(findmnt -rn -o TARGET | awk -v d="${LAB_DIR}/" 'index($0, d) == 1' | sort -r)

  # Loop devices backed by lab images. Forget btrfs' cached registration, then detach (bounded).
  local deadline=$(($(date +%s) + 15))
  while :; do
    mapfile -t devs < <(loop_devs_of_lab)
    ((${#devs[@]} == 0)) && break
    for dev in "${devs[@]}"; do
      btrfs device scan --forget "${dev}" >/dev/null 2>&1 || true
      losetup -d "${dev}" 2>/dev/null || true
    done
    if (($(date +%s) >= deadline)); then
      lab_log "loop devices still attached: ${devs[*]}"
      break
    fi
    sleep 0.3
  done

  for node in "${nodes[@]}"; do
    [[ -n ${node} ]] || continue
    ns="$(lab_node_ns "${node}")"
    if [[ -e /run/netns/${ns} ]]; then ip netns del "${ns}" 2>/dev/null || true; fi
    ip link del dev "$(lab_node_hveth "${node}")" 2>/dev/null || true
  done
  ip link show dev "${BR}" >/dev/null 2>&1 && ip link del dev "${BR}"
  if command -v iptables >/dev/null 2>&1; then
    local k
    for k in 1 2 3 4 5 6 7 8 9 10; do
      iptables -w 5 -C "${IPT_RULE[@]}" 2>/dev/null || break
      iptables -w 5 -D "${IPT_RULE[@]}"
    done
  fi

  # Undo iproute2's /run/netns mount if this lab created it and nobody else has a netns there.
  # A plain umount fails (EBUSY) if any netns is still mounted below, so this cannot hurt others.
  if [[ -e ${LAB_DIR}/created-run-netns && -d /run/netns && -z "$(ls -A /run/netns)" ]]; then
    umount /run/netns 2>/dev/null || true
    rmdir /run/netns 2>/dev/null || true
  fi

  if [[ -d ${LAB_DIR} ]]; then
    if findmnt -rn -o TARGET | awk -v d="${LAB_DIR}/" 'index($0, d) == 1' | grep -q .; then
      lab_die "mounts remain under ${LAB_DIR}; not deleting it"
    fi
    local entry
    for entry in "${LAB_DIR}"/* "${LAB_DIR}"/.[!.]*; do
      [[ -e ${entry} || -L ${entry} ]] || continue
      [[ ${purge} -eq 0 && ${entry} == "${LAB_DIR}/cache" ]] && continue
      rm -rf --one-file-system -- "${entry}"
    done
    if [[ ${purge} -eq 1 ]]; then rmdir "${LAB_DIR}" 2>/dev/null || true; fi
  fi
  lab_log "down in $(elapsed "${t0}")s"
}

# up and down serialize on LAB_DIR (another engineer's test may drive the same lab). flock -o
# closes the lock fd in lab.sh itself, so the daemons it starts never inherit and keep the lock;
# the lock is released when this invocation exits.
if [[ (${1:-} == up || ${1:-} == down) && -z ${OPENSVC_LAB_LOCK_HELD:-} ]]; then
  mkdir -p "${LAB_DIR}"
  OPENSVC_LAB_LOCK_HELD=1 exec flock -o -w 600 -E 75 "${LAB_DIR}" "$(readlink -f "$0")" "$@"
fi
unset OPENSVC_LAB_LOCK_HELD

case "${1:-}" in
  up) shift; cmd_up "$@" ;;
  down) shift; cmd_down "$@" ;;
  status) shift; cmd_status "$@" ;;
  *)
    echo "usage: $0 up N | down [--purge] | status" >&2
    exit 2
    ;;
esac
