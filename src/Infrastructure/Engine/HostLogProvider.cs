using Hangfire.AspNetCore;
using Hangfire.Logging;
using Microsoft.Extensions.Logging;

namespace OpenSvc.Infrastructure.Engine;

/// <summary>
/// Hangfire's log provider is process-wide (a static) while logger factories belong to hosts. When a process holds
/// more than one host (the test suite, or any embedding) and the host that configured Hangfire last is disposed,
/// the stock provider throws ObjectDisposedException from <c>GetLogger</c>, and Hangfire creates loggers on its
/// hot paths: a worker that had just fetched a job threw before starting it, and the job stayed invisible to every
/// other worker until its invisibility timeout. Here a disposed factory means silence, never a lost job.
/// </summary>
public sealed class HostLogProvider(ILoggerFactory factory) : ILogProvider
{
    readonly AspNetCoreLogProvider _inner = new(factory);

    public ILog GetLogger(string name)
    {
        try
        {
            return _inner.GetLogger(name);
        }
        catch (ObjectDisposedException)
        {
            return Silent.Instance;
        }
    }

    sealed class Silent : ILog
    {
        public static readonly Silent Instance = new();

        public bool Log(Hangfire.Logging.LogLevel logLevel, Func<string>? messageFunc, Exception? exception = null) => false;
    }
}
