# The OpenSvc agent image: the same `opensvc` executable as on bare hosts.
# Build: docker build -t opensvc/agent .
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY . .
# ReadyToRun: precompiled code, so a fresh agent's first takeover compiles less (docs/engine-cost.md).
RUN dotnet publish src/Host -c Release -r linux-x64 --self-contained false -p:PublishReadyToRun=true -o /app -warnaserror

FROM mcr.microsoft.com/dotnet/aspnet:10.0
# What the drivers run on the node: mount/btrfs, rsync and ssh for syncs, docker for container
# resources (talking to the node's dockerd through its socket), iproute2 for ip.docker.
RUN apt-get update \
 && apt-get install -y --no-install-recommends btrfs-progs rsync openssh-client docker.io iproute2 util-linux psmisc curl \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /app /opt/opensvc
ENV OPENSVC_HOME=/var/lib/opensvc
EXPOSE 7480
HEALTHCHECK --interval=10s --timeout=3s --retries=6 CMD curl -fsS http://127.0.0.1:7480/health || exit 1
ENTRYPOINT ["/opt/opensvc/opensvc", "agent", "--listen", "0.0.0.0:7480"]
