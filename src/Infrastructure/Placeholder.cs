namespace OpenSvc.Infrastructure; internal static class Placeholder { }
