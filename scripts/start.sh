#!/usr/bin/env bash
# Starts OpenSvc on this machine. Installs what is missing and builds (warnings as errors) first.
#
#   ./scripts/start.sh                 the demo (root): a 3-node lab on this machine, one agent per node on an
#                                      embedded PostgreSQL, the seed's failover service started on n1, synced to
#                                      the DR node n3 and drilled there while n1 keeps serving; prints the drill's
#                                      timeline (RTO, RPO), its report and where the console (first), the dashboard
#                                      and the API are, runs until Ctrl-C, then tears the lab down.
#   ./scripts/start.sh --agent [ARGS]  this node's agent alone on 127.0.0.1:7480, on its embedded PostgreSQL
#                                      unless OPENSVC_CONNECTION is set (ARGS: opensvc agent --help).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
dotnet build src/Host -c Release -nologo -v quiet -warnaserror >/dev/null
if [[ ${1:-} == --agent ]]; then
  shift
  exec src/Host/bin/Release/net10.0/opensvc agent "$@"
fi
exec src/Host/bin/Release/net10.0/opensvc demo "$@"
