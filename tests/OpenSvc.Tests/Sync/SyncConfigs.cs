namespace OpenSvc.Tests.Sync;

/// <summary>The seed's failover configuration mapped onto the lab's devices, and an rsync service like doc case 3.</summary>
public static class SyncConfigs
{
    /// <summary>Seed failover-docker-btrfs with fs types, the lab's devices, a docker_data_dir inside fs#0, lab images.</summary>
    public static string FailoverDockerBtrfs(string siteDev, string drpDev) => $"""
        [DEFAULT]
        nodes = n1 n2
        drpnodes = n3
        docker_data_dir = /srv/svc1/docker/data
        sync_max_delay = 60

        [container#0]
        type = docker
        image = opensvc/busybox:lab

        [container#1]
        type = docker
        image = opensvc/httpd:lab

        [fs#0]
        type = btrfs
        dev@nodes = {siteDev}
        dev@drpnodes = {drpDev}
        mnt = /srv/svc1/docker
        mnt_opt = defaults,subvol=docker
        always_on = drpnodes

        [fs#1]
        type = btrfs
        dev@nodes = {siteDev}
        dev@drpnodes = {drpDev}
        mnt = /srv/svc1/data
        mnt_opt = defaults,subvol=data
        always_on = drpnodes

        [sync#0]
        type = docker
        target = drpnodes

        [sync#1]
        type = btrfs
        target = drpnodes
        src = svc1:data
        dst = svc1:data
        """;

    /// <summary>Doc case 3's rsync, with the exclude pattern that works (anchored at the transfer root).</summary>
    public const string Rsync = """
        [DEFAULT]
        nodes = n1 n2
        drpnodes = n3

        [sync#1]
        type = rsync
        src = /srv/svc2/data/
        dst = /srv/svc2/data
        dstfs = /srv/svc2/data
        options = --exclude=/logs/*
        target = drpnodes
        """;
}
