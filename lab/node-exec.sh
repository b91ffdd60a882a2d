#!/usr/bin/env bash
# Usage: node-exec.sh NODE CMD [ARG...]
# Runs CMD with its arguments, unchanged (no shell re-parsing), inside lab node NODE:
# its mount namespace (own /srv, /run, /tmp, /etc/hosts), UTS namespace (hostname) and
# network namespace (eth0 on the lab bridge). Exit status is CMD's.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/lib.sh"
lab_validate_env

if [[ $# -lt 2 ]]; then
  echo "usage: $0 NODE CMD [ARG...]" >&2
  exit 2
fi
node="$1"
shift
lab_node_index "${node}" >/dev/null
pid="$(lab_holder_pid "${node}")" || lab_die "node ${node} is not running (no live holder under ${LAB_DIR})"
exec nsenter --target "${pid}" --mount --uts --net -- "$@"
