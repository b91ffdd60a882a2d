#!/usr/bin/env bash
# End-to-end test of the lab: up 3 nodes, exercise network, ssh, docker, shared btrfs disk and
# the agent hook, then down and assert that nothing is left behind.
# Prints PASS/FAIL per check; exits non-zero if any check failed.
set -euo pipefail
HERE="$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")"
# shellcheck source=lib.sh
source "${HERE}/lib.sh"
lab_validate_env
export LAB_DIR LAB_PREFIX LAB_SUBNET

LAB=("${HERE}/lab.sh")
NX=("${HERE}/node-exec.sh")
failures=0
passes=0

pass() { printf 'PASS  %s\n' "$1"; passes=$((passes + 1)); }
fail() { printf 'FAIL  %s\n' "$1"; [[ -n ${2:-} ]] && printf '      %s\n' "$2"; failures=$((failures + 1)); }

# Every external command a check runs is bounded (shell functions bound their own commands).
run_bounded() {
  if [[ "$(type -t "$1")" == function ]]; then "$@"; else timeout -k 5 "${LAB_CHECK_TIMEOUT:-90}" "$@"; fi
}

# check NAME CMD... : PASS if CMD exits 0 (its output is shown only on failure).
check() {
  local name="$1" out
  shift
  if out="$(run_bounded "$@" 2>&1)"; then pass "${name}"; else fail "${name}" "$(printf '%s' "${out}" | tail -n 5)"; fi
}

# expect NAME WANT CMD... : PASS if CMD exits 0 and its stdout (trimmed) equals WANT.
expect() {
  local name="$1" want="$2" out
  shift 2
  if out="$(run_bounded "$@" 2>&1)" && [[ ${out} == "${want}" ]]; then pass "${name}"; else fail "${name}" "want '${want}', got '${out}'"; fi
}

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

if [[ -e ${LAB_DIR}/lab.env ]]; then
  echo "a lab is already up in ${LAB_DIR} (LAB_PREFIX=${LAB_PREFIX}); run lab.sh down first or set LAB_DIR/LAB_PREFIX" >&2
  exit 2
fi

run_netns_before=no
[[ -e /run/netns ]] && run_netns_before=yes

# A stand-in agent for the OPENSVC_AGENT_CMD hook: reports what it was given, then idles.
# Not under /tmp: each node has a private /tmp.
fake_dir="$(mktemp -d /var/tmp/opensvc-lab-test.XXXXXX)"
downed=0
TEST_DROP=(FORWARD -i "$(LAB_BRIDGE)" -o "$(LAB_BRIDGE)" -m comment --comment "$(LAB_IPT_TAG)-test-drop" -j DROP)
cleanup() {
  iptables -w 5 -D "${TEST_DROP[@]}" 2>/dev/null || true
  # An aborted run must not leave a lab behind either.
  if [[ ${downed} -eq 0 && -e ${LAB_DIR}/lab.env ]]; then timeout -k 5 300 "${LAB[@]}" down >/dev/null 2>&1 || true; fi
  rm -rf -- "${fake_dir}"
}
trap cleanup EXIT
cat >"${fake_dir}/fake-opensvc" <<'EOF'
#!/bin/sh
echo "argv=$* hostname=$(cat /proc/sys/kernel/hostname) connection=${OPENSVC_CONNECTION:-unset}"
trap 'echo stopping; exit 0' TERM
while :; do sleep 1; done
EOF
chmod 0755 "${fake_dir}/fake-opensvc"

# ------------------------------------------------------------------------------------------- up
t="$(now)"
if timeout -k 5 300 "${LAB[@]}" up 3; then pass "lab up 3 ($(elapsed "${t}")s)"; else fail "lab up 3 ($(elapsed "${t}")s)"; fi

t="$(now)"
if OPENSVC_AGENT_CMD="${fake_dir}/fake-opensvc agent" OPENSVC_CONNECTION="Host=10.203.0.1;Database=lab" \
  timeout -k 5 300 "${LAB[@]}" up 3; then
  pass "lab up 3 again, idempotent, with agent hook ($(elapsed "${t}")s)"
else
  fail "lab up 3 again ($(elapsed "${t}")s)"
fi
if [[ -r ${LAB_DIR}/nodes.env ]]; then
  # shellcheck disable=SC1091
  source "${LAB_DIR}/nodes.env"
else
  fail "nodes.env written by up"
  exit 1
fi

check "status exits 0" "${LAB[@]}" status

# ------------------------------------------------------------------------------------- network
for pair in n1:n2 n2:n3 n3:n1; do
  check "ping ${pair%%:*} -> ${pair##*:}" "${NX[@]}" "${pair%%:*}" busybox ping -c 1 -W 2 "${pair##*:}"
done
# Firewall: a DROP for lab bridge traffic appended to FORWARD (as a DROP policy would) must not
# matter, because up inserts a tagged ACCEPT first. Only lab-bridge traffic is affected.
iptables -w 5 -A "${TEST_DROP[@]}"
check "ping n1 -> n2 despite a DROP at the end of FORWARD" "${NX[@]}" n1 busybox ping -c 1 -W 2 n2
if [[ "$(cat /proc/sys/net/bridge/bridge-nf-call-iptables 2>/dev/null)" == 1 ]]; then
  # br_netfilter is active here: prove the rule is what lets traffic through, and that up restores it.
  iptables -w 5 -D FORWARD -i "$(LAB_BRIDGE)" -o "$(LAB_BRIDGE)" -m comment --comment "$(LAB_IPT_TAG)" -j ACCEPT
  check "without the lab ACCEPT rule, bridged ping is dropped (br_netfilter)" \
    bash -c '! "$@"' _ "${NX[@]}" n1 busybox ping -c 1 -W 1 n2
  timeout -k 5 300 "${LAB[@]}" up 3 >/dev/null 2>&1 || true
  check "up restores the ACCEPT rule: ping n1 -> n2" "${NX[@]}" n1 busybox ping -c 1 -W 2 n2
fi
iptables -w 5 -D "${TEST_DROP[@]}"

expect "hostname of n2 (UTS namespace)" n2 "${NX[@]}" n2 cat /proc/sys/kernel/hostname
expect "/etc/hosts inside n1 resolves n3" "${LAB_N3_ADDR} n3" \
  "${NX[@]}" n1 awk '$2 == "n3" { print $1, $2 }' /etc/hosts

# ------------------------------------------------------------------------------------------ ssh
marker="marker-$$-${RANDOM}"
printf '%s\n' "${marker}" | timeout -k 5 30 "${NX[@]}" n3 tee "/srv/${marker}" >/dev/null
check "marker is private to n3's /srv (absent in n1 and on host)" \
  bash -c '! "$1" n1 test -e "/srv/$2" && ! test -e "/srv/$2"' _ "${NX[0]}" "${marker}"
SSH=(ssh -F "${LAB_DIR}/ssh_config" -o StrictHostKeyChecking=yes -o BatchMode=yes)
expect "ssh n1 -> n3 strict host keys: hostname" n3 "${NX[@]}" n1 "${SSH[@]}" n3 hostname
expect "ssh n1 -> n3: ls /srv sees n3's marker" "${marker}" "${NX[@]}" n1 "${SSH[@]}" n3 ls /srv
expect "ssh n3 -> 10.203 address of n1: hostname" n1 "${NX[@]}" n3 "${SSH[@]}" "${LAB_N1_ADDR}" hostname
refuses_unknown_host_key() {
  local out
  if out="$(timeout -k 5 30 "${NX[@]}" n1 "${SSH[@]}" -o UserKnownHostsFile=/dev/null n2 true 2>&1)"; then
    echo "ssh succeeded without a known host key"
    return 1
  fi
  [[ ${out} == *"Host key verification failed"* ]] || { echo "${out}"; return 1; }
}
check "ssh refuses an unknown host key (empty known_hosts)" refuses_unknown_host_key

# --------------------------------------------------------------------------------------- docker
for node in n1 n2 n3; do
  check "docker info on ${node}" "${NX[@]}" "${node}" docker info --format '{{.ServerVersion}}'
done
expect "busybox image runs a container on n1" ok \
  "${NX[@]}" n1 docker run --rm --net=none opensvc/busybox:lab echo ok
image_id() { timeout -k 5 30 "${NX[@]}" "$1" docker image inspect --format '{{.Id}}' "$2"; }
for img in opensvc/busybox:lab opensvc/httpd:lab; do
  id1="$(image_id n1 "${img}" 2>&1 || true)"
  id2="$(image_id n2 "${img}" 2>&1 || true)"
  if [[ ${id1} == sha256:* && ${id1} == "${id2}" ]]; then pass "${img} on n1 and n2 with same id"; else fail "${img} on n1 and n2" "n1=${id1} n2=${id2}"; fi
done
check "n3 (DR) has no lab image yet (sync will bring it)" \
  bash -c '! "$@" docker image inspect opensvc/busybox:lab' _ "${NX[@]}" n3

# ------------------------------------------------------------------------------ btrfs disks
expect "n1 and n2 share one device, n3 has its own" "shared distinct" \
  bash -c '[[ $1 == "$2" && $1 != "$3" ]] && echo "shared distinct"' _ "${LAB_N1_DEV}" "${LAB_N2_DEV}" "${LAB_N3_DEV}"
for node in n1 n3; do
  dev_var="LAB_${node^^}_DEV"
  expect "btrfs label of ${node} disk" svc1 blkid -o value -s LABEL "${!dev_var}"
done
shared_file="/srv/svc1/data/written-by-n1-$$"
check "mount subvol=data on n1, write, unmount" "${NX[@]}" n1 bash -euc '
  mkdir -p /srv/svc1/data
  mount -t btrfs -o defaults,subvol=data "$1" /srv/svc1/data
  printf "%s\n" hello-from-n1 >"$2"
  sync
  umount /srv/svc1/data' _ "${LAB_N1_DEV}" "${shared_file}"
check "host does not see node mounts" bash -c '! findmnt -rn -S "$1" >/dev/null' _ "${LAB_N1_DEV}"
expect "n2 mounts the shared disk and reads n1's file" hello-from-n1 "${NX[@]}" n2 bash -euc '
  mkdir -p /srv/svc1/data
  mount -t btrfs -o defaults,subvol=data "$1" /srv/svc1/data
  cat "$2"
  umount /srv/svc1/data' _ "${LAB_N2_DEV}" "${shared_file}"
check "n3 disk mounts subvol=docker, and has no n1 file" "${NX[@]}" n3 bash -euc '
  mkdir -p /srv/svc1/docker /srv/svc1/data
  mount -t btrfs -o defaults,subvol=docker "$1" /srv/svc1/docker
  mount -t btrfs -o defaults,subvol=data "$1" /srv/svc1/data
  ! test -e "$2"' _ "${LAB_N3_DEV}" "${shared_file}"
# (n3's mounts are left in place on purpose: down must clean them up.)

# ------------------------------------------------------- DR transports between nodes over ssh
# The three paths the sync drivers use, end to end through the lab's sshd and strict host keys.
CFG="${LAB_DIR}/ssh_config"
check "docker save on n1 | ssh n3 docker load" "${NX[@]}" n1 bash -euc '
  docker save "$2" | ssh -F "$1" n3 docker load >/dev/null' _ "${CFG}" opensvc/busybox:lab
id1="$(image_id n1 opensvc/busybox:lab 2>&1 || true)"
id3="$(image_id n3 opensvc/busybox:lab 2>&1 || true)"
if [[ ${id1} == sha256:* && ${id1} == "${id3}" ]]; then pass "image id identical on n3 after load"; else fail "image id on n3" "n1=${id1} n3=${id3}"; fi
expect "rsync n1:/srv -> n3:/srv over ssh" rsynced-from-n1 "${NX[@]}" n1 bash -euc '
  mkdir -p /srv/rsync-src
  printf "%s\n" rsynced-from-n1 >/srv/rsync-src/file
  rsync -a -e "ssh -F $1" /srv/rsync-src/ n3:/srv/rsync-dst/
  ssh -F "$1" n3 cat /srv/rsync-dst/file' _ "${CFG}"
check "n3: mount btrfs top level for receive" "${NX[@]}" n3 bash -euc '
  mkdir -p /srv/svc1/pool
  mount -t btrfs -o subvolid=5 "$1" /srv/svc1/pool' _ "${LAB_N3_DEV}"
expect "btrfs send on n1 | ssh n3 btrfs receive" sent-by-n1 "${NX[@]}" n1 bash -euc '
  mkdir -p /srv/svc1/pool
  mount -t btrfs -o subvolid=5 "$2" /srv/svc1/pool
  printf "%s\n" sent-by-n1 >/srv/svc1/pool/data/sent
  btrfs -q subvolume snapshot -r /srv/svc1/pool/data /srv/svc1/pool/data@lab-snap
  btrfs -q send /srv/svc1/pool/data@lab-snap | ssh -F "$1" n3 btrfs -q receive /srv/svc1/pool
  btrfs -q subvolume delete /srv/svc1/pool/data@lab-snap >/dev/null
  umount /srv/svc1/pool
  ssh -F "$1" n3 cat /srv/svc1/pool/data@lab-snap/sent' _ "${CFG}" "${LAB_N1_DEV}"

# ---------------------------------------------------------------------------------- agent hook
for node in n1 n3; do
  expect "agent on ${node} got --node, node hostname and OPENSVC_CONNECTION" \
    "argv=agent --node ${node} hostname=${node} connection=Host=10.203.0.1;Database=lab" \
    head -n 1 "${LAB_DIR}/${node}/agent.log"
done
check "status shows agents ok" bash -c '"$1" status | grep -q "^n1 .*agent=ok"' _ "${LAB[0]}"

# Leave something running for down to clean: a detached container on n1.
check "detached container on n1" "${NX[@]}" n1 docker run -d --net=none --name lab-sleeper opensvc/busybox:lab sleep 600

# ----------------------------------------------------------------------------------------- down
t="$(now)"
downed=1
if timeout -k 5 300 "${LAB[@]}" down; then pass "lab down ($(elapsed "${t}")s)"; else fail "lab down ($(elapsed "${t}")s)"; fi

check "no ${LAB_PREFIX}- netns" bash -c '! ip netns list | grep -q "^$1-"' _ "${LAB_PREFIX}"
check "no bridge $(LAB_BRIDGE)" bash -c '! ip link show dev "$1" >/dev/null 2>&1' _ "$(LAB_BRIDGE)"
check "no ${LAB_PREFIX}- links" bash -c '! ip -o link show | grep -q ": $1-"' _ "${LAB_PREFIX}"
check "no loop device backed by ${LAB_DIR}" \
  bash -c '! losetup -n -l -O BACK-FILE | grep -qF "$1/"' _ "${LAB_DIR}"
leftover_procs() {
  local p cmd found=0
  for p in /proc/[0-9]*; do
    lab_pid_alive "${p#/proc/}" || continue
    cmd="$(tr '\0' ' ' <"${p}/cmdline" 2>/dev/null || true)"
    if [[ ${cmd} == *"${LAB_DIR}/"* || ${cmd} == *"${fake_dir}"* ]]; then
      echo "${p#/proc/}: ${cmd}"
      found=1
    fi
  done
  return "${found}"
}
check "no processes from ${LAB_DIR} (or the fake agent)" leftover_procs
check "no lab cgroups" bash -c '! ls -d /sys/fs/cgroup/*/"$1"-n* 2>/dev/null | grep -q .' _ "${LAB_PREFIX}"
check "no mounts under ${LAB_DIR}" bash -c '! findmnt -rn -o TARGET | grep -qF "$1/"' _ "${LAB_DIR}"
check "no iptables lab rules" bash -c '! iptables -w 5 -S | grep -qF "$1"' _ "$(LAB_IPT_TAG)"
expect "${LAB_DIR} holds only the cache" "cache" bash -c 'ls -A "$1" | tr "\n" " " | sed "s/ $//"' _ "${LAB_DIR}"

if [[ ${run_netns_before} == no ]]; then
  check "no /run/netns left (it did not exist before)" bash -c '! test -e /run/netns'
fi

printf '\n%d passed, %d failed\n' "${passes}" "${failures}"
((failures == 0))
