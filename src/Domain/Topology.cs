namespace OpenSvc.Domain;

/// <summary>DEFAULT.topology: one instance up at a time (failover), or several (flex).</summary>
public enum Topology
{
    Failover,
    Flex,
}
