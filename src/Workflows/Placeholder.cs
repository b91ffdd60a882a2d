namespace OpenSvc.Workflows; internal static class Placeholder { }
