#!/usr/bin/env bash
# Installs what OpenSvc needs on a Debian 12 machine, only what is missing. Idempotent; run as root.
set -euo pipefail

# The database here; what the drivers and the lab need on a node (openssh, rsync, btrfs-progs, docker.io,
# busybox-static, iproute2, iptables, ..., and apparmor where the kernel enforces it) is lab/install-deps.sh's list.
packages=(
  postgresql-15        # the embedded default database (initdb, pg_ctl) and test database
  chromium             # the browser the console's tests drive (Playwright launches /usr/bin/chromium)
)

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: run as root (apt-get needs it): sudo $0" >&2
  exit 2
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

"$(dirname "$0")/../lab/install-deps.sh" >/dev/null

if ! command -v dotnet >/dev/null 2>&1; then
  echo "install-deps: the .NET 10 SDK is missing (dotnet not on PATH): install it from Microsoft's Debian packages (dotnet-sdk-10.0)" >&2
  exit 2
fi
echo "install-deps: ok ($(dotnet --version) SDK, PostgreSQL $(ls /usr/lib/postgresql | sort -n | tail -1), $(rsync --version | head -1 | awk '{print $1, $3}'), $(btrfs --version | awk '{print $1, $2}'), $(dockerd --version | awk '{print $1, $3}' | tr -d ,))"
