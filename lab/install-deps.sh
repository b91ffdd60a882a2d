#!/usr/bin/env bash
# Install (idempotently) the Debian packages the OpenSvc lab needs.
# Runs `apt-get update` at most once, and only when something is missing.
set -euo pipefail

packages=(
  iproute2 openssh-server openssh-client rsync btrfs-progs docker.io
  busybox-static util-linux procps psmisc iptables
)

# docker.io only *recommends* apparmor, and we install without recommends. dockerd 20.10 fails
# every container start when the kernel has AppArmor enabled but apparmor_parser is missing
# ("AppArmor enabled on system but the docker-default profile could not be loaded";
# fixed only in 23.0, moby/moby#44902). So add it when the kernel has AppArmor on.
if [[ "$(cat /sys/module/apparmor/parameters/enabled 2>/dev/null)" == Y ]]; then
  packages+=(apparmor)
fi

if [[ ${EUID} -ne 0 ]]; then
  echo "install-deps: must run as root" >&2
  exit 1
fi

is_installed() {
  local status
  status="$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)"
  [[ ${status} == "install ok installed" ]]
}

missing=()
for pkg in "${packages[@]}"; do
  if ! is_installed "${pkg}"; then
    missing+=("${pkg}")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-deps: all ${#packages[@]} packages already installed"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends "${missing[@]}"

# The lab starts its own sshd/dockerd per node; the distro units are not needed.
# We do not stop or disable them: other users of the machine may rely on them.
echo "install-deps: done"
