#!/usr/bin/env bash
# Starts OpenSvc on this machine: installs what is missing, builds, and runs the node agent on
# 127.0.0.1:7480 with the embedded PostgreSQL (unless OPENSVC_CONNECTION is set). Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
dotnet build src/Host -c Release -nologo -v quiet -warnaserror >/dev/null
exec src/Host/bin/Release/net10.0/opensvc agent "$@"
