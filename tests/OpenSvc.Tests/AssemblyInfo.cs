// The agent drives Linux facilities (mount, btrfs, netns, dockerd): it runs on Linux only.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
