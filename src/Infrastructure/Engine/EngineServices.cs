using Hangfire;
using Hangfire.PostgreSql;
using Hangfire.PostgreSql.Factories;
using Marten;
using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using OpenSvc.Infrastructure.Drivers;
using OpenSvc.Infrastructure.Drivers.Fake;
using OpenSvc.Infrastructure.Drivers.Noop;
using OpenSvc.Infrastructure.Faults;
using OpenSvc.Workflows.Agents;
using OpenSvc.Workflows.Engine;
using OpenSvc.Workflows.Runs;
using OpenSvc.Workflows.Drivers;

namespace OpenSvc.Infrastructure.Engine;

public static class EngineServices
{
    /// <summary>
    /// Wires Marten, Hangfire (PostgreSQL storage, agents woken by their queues' notifications, sliding invisibility), MediatR and the step
    /// engine. With <see cref="EngineOptions.RunAgent"/> it also runs this node's Hangfire server, heartbeat and reconciler.
    /// </summary>
    public static IServiceCollection AddOpenSvcEngine(this IServiceCollection services, EngineOptions options)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(options);
        services.AddSingleton(AgentIdentity.ForThisProcess(options.Node));
        services.AddSingleton(new LivenessOptions(options.AgentDeadAfter));
        services.AddSingleton(sp => new AgentLease(sp.GetRequiredService<TimeProvider>()) { Term = AgentLiveness.LeaseTerm(options.AgentDeadAfter) });
        services.AddSingleton<IDatabaseClock>(_ => Postgres.DatabaseClock.For(WorkflowStore.ConnectionString(options.ConnectionString)));
        services.AddMarten(o =>
        {
            WorkflowStore.Configure(o, options.ConnectionString, options.MartenSchema);
            o.Schema.For<FakeResource>();
            o.Schema.For<FakeEffect>().Index(x => x.RunId);
            o.Schema.For<FakeFault>();
            o.Schema.For<OpenSvc.Workflows.Monitoring.InstanceStatusReport>().Index(x => x.Service);
            o.Schema.For<OpenSvc.Workflows.Syncs.SyncRecord>().DocumentAlias("lastsync").Index(x => x.Service);
            o.Schema.For<OpenSvc.Workflows.Syncs.SyncScheduleState>().DocumentAlias("syncschedule").Index(x => x.Service);
        });

        AddMediator(services);
        services.AddSingleton<IFaultInjector>(_ => ProcessKillFaults.FromEnvironment());
        services.AddSingleton<RunWriter>();
        services.AddSingleton<OpenSvc.Workflows.Syncs.SyncSchedules>();
        services.AddTransient<OpenSvc.Workflows.Syncs.SyncScheduleJob>();
        services.TryAddSingleton<OpenSvc.Workflows.Monitoring.IStatusSignal, OpenSvc.Workflows.Monitoring.NoStatusSignal>();
        services.TryAddSingleton<ResolvedServices>();
        services.TryAddSingleton<DriverRegistry>();
        if (options.FakeCluster)
            services.AddDriverForEveryKind<FakeClusterDriver>();
        else if (options.NoopCluster)
            services.AddDriverForEveryKind<NoopDriver>();
        else
            services.AddNodeDrivers();

        // Registered before AddHangfire so the container's storage is ours, not the static JobStorage.Current.
        var storageOptions = HangfireStorageOptions(options);
        var hangfireConnection = HangfireConnectionString(options.ConnectionString);
        services.AddSingleton(_ => new PostgreSqlStorage(new NpgsqlConnectionFactory(hangfireConnection, storageOptions), storageOptions));
        services.AddSingleton(sp => new NotifiedJobQueueProvider(sp.GetRequiredService<PostgreSqlStorage>(), hangfireConnection, storageOptions,
            options.QueuePollInterval ?? TimeSpan.FromSeconds(5),
            (sp.GetService<ILoggerFactory>() ?? Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance).CreateLogger<NotifiedJobQueueProvider>()));
        services.AddSingleton<JobStorage>(sp =>
        {
            var storage = sp.GetRequiredService<PostgreSqlStorage>();
            // An agent fetches its own queues when they are notified (NotifiedJobQueueProvider). Other processes only
            // enqueue: Hangfire's plain insert, which the trigger notifies all the same.
            if (options.RunAgent && options.Wakeup == QueueWakeup.Notified)
            {
                NotifiedJobQueueProvider.InstallTrigger(hangfireConnection, storageOptions.SchemaName);
                storage.QueueProviders.Add(sp.GetRequiredService<NotifiedJobQueueProvider>(), EngineQueues.Of(options.Node));
            }
            return storage;
        });
        // Hangfire.NetCore would hand the server whatever the static JobActivator.Current is when it is resolved: with
        // several hosts in one process that can be another host's, disposed later. Each container activates its own jobs.
        services.AddSingleton<JobActivator>(sp => new Hangfire.AspNetCore.AspNetCoreJobActivator(sp.GetRequiredService<IServiceScopeFactory>()));
        services.AddHangfire((sp, c) =>
        {
            c.UseLogProvider(new HostLogProvider(sp.GetService<ILoggerFactory>() ?? Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance))
                .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
                .UseSimpleAssemblyNameTypeSerializer()
                .UseRecommendedSerializerSettings()
                // Jobs carry ids only: no culture parameters stored with every job.
                .UseDefaultCulture(System.Globalization.CultureInfo.InvariantCulture, System.Globalization.CultureInfo.InvariantCulture, captureDefault: false)
                .UseStorage(sp.GetRequiredService<JobStorage>());
            // Each of these global filters reads a job parameter before every job runs (a round trip each, on the
            // path from fetch to step): culture (our jobs carry none, see above) and continuations (we chain steps
            // through the run's events, never with ContinueJobWith). StatisticsHistory adds two counter rows (the
            // dashboard's daily and hourly history graph, two more statements in the succeeded transaction of every
            // step): the dashboard's totals and realtime graph stay, the run's events are the record.
            foreach (var f in GlobalJobFilters.Filters.Where(f => f.Instance is CaptureCultureAttribute or ContinuationsSupportAttribute or StatisticsHistoryAttribute).ToList())
                GlobalJobFilters.Filters.Remove(f.Instance);
        });
        services.AddSingleton<IStepDispatcher, HangfireStepDispatcher>();
        services.AddTransient<StepJob>();
        services.AddTransient<ReconcileJob>();
        services.AddSingleton<OpenSvc.Workflows.Runs.IClusterClient, Client.DirectClusterClient>();

        if (options.RunAgent)
        {
            services.AddHangfireServer((_, o) =>
            {
                o.Queues = EngineQueues.Of(options.Node);
                o.WorkerCount = options.Workers;
                o.ServerName = $"opensvc-{options.Node}-{Environment.ProcessId}";
                o.SchedulePollingInterval = TimeSpan.FromSeconds(1);
                o.ServerCheckInterval = TimeSpan.FromSeconds(30);
                o.HeartbeatInterval = TimeSpan.FromSeconds(10);
                o.ShutdownTimeout = TimeSpan.FromSeconds(5);
            });
            services.AddHostedService<AgentHeartbeatService>();
            services.AddHostedService<ReconcilerService>();
            services.AddSingleton<StatusRefreshService>();
            services.AddSingleton<OpenSvc.Workflows.Monitoring.IStatusSignal>(sp => sp.GetRequiredService<StatusRefreshService>());
            services.AddHostedService(sp => sp.GetRequiredService<StatusRefreshService>());
            services.AddHostedService<ConfigWatchService>();
            services.AddHostedService<OrchestratorService>();
        }
        return services;
    }

    /// <summary>
    /// Hangfire's connections commit without waiting for the WAL flush (<c>synchronous_commit = off</c>, for these
    /// sessions only). Hangfire's rows are delivery bookkeeping, not the record: the run's events are, and Marten
    /// commits them synchronously. A PostgreSQL crash can lose the last few hundred milliseconds of Hangfire
    /// commits, never corrupt them; what is lost is an enqueue (the reconciler enqueues a step scheduled but in no
    /// queue again), a fetch or a job state (the job runs again, and the executor skips a step already handled),
    /// the same cases an agent killed between Marten's commit and Hangfire's already produces. Every step pays
    /// several Hangfire commits (enqueue, processing, succeeded, the lock around each state change), so not
    /// waiting for the disk there shortens the dispatch of every step.
    /// </summary>
    public static string HangfireConnectionString(string connectionString)
    {
        var b = new Npgsql.NpgsqlConnectionStringBuilder(connectionString);
        const string setting = "-c synchronous_commit=off";
        if (!(b.Options ?? "").Contains("synchronous_commit", StringComparison.Ordinal))
            b.Options = string.IsNullOrWhiteSpace(b.Options) ? setting : $"{b.Options} {setting}";
        // Hangfire sends the same few dozen statements for every job: prepared once per connection, PostgreSQL
        // stops parsing and planning them each time (its schema is created before any of them runs).
        if (b.MaxAutoPrepare == 0)
        {
            b.MaxAutoPrepare = 64;
            b.AutoPrepareMinUsages = 2;
        }
        return b.ConnectionString;
    }

    /// <summary>Hangfire.PostgreSql's settings for these engine options (agents, clients and the benchmark's Hangfire-alone phase).</summary>
    public static PostgreSqlStorageOptions HangfireStorageOptions(EngineOptions options) => new()
    {
        SchemaName = options.HangfireSchema,
        PrepareSchemaIfNecessary = true,
        // Notified queues (the default) do not use Hangfire.PostgreSql's long polling: its NOTIFY names no queue, so
        // every waiting worker of every agent wakes and fetches for each job (measured: 16 empty fetches per step
        // with two agents of 8 workers), and each fetch opens a LISTEN connection of its own. It stays available
        // for comparison (bench engine) with a 1 s poll as its safety net for a missed notification.
        EnableLongPolling = options.Wakeup == QueueWakeup.HangfireLongPolling,
        QueuePollInterval = options.QueuePollInterval ?? (options.Wakeup == QueueWakeup.HangfireLongPolling ? TimeSpan.FromSeconds(1) : TimeSpan.FromSeconds(15)),
        // A long sync must never be fetched twice: the invisibility window slides while the job runs.
        UseSlidingInvisibilityTimeout = true,
        InvisibilityTimeout = TimeSpan.FromMinutes(5),
        DistributedLockTimeout = TimeSpan.FromMinutes(1),
        // Fail fast with a clear message rather than start degraded without storage.
        AllowDegradedModeWithoutStorage = false,
    };

    /// <summary>MediatR 5: a ServiceFactory over the container, and every handler of the Workflows assembly.</summary>
    static void AddMediator(IServiceCollection services)
    {
        services.AddSingleton<ServiceFactory>(sp => sp.GetService!);
        services.AddSingleton<IMediator, Mediator>();
        var handlerTypes = typeof(SubmitRun).Assembly.GetTypes()
            .Where(t => t is { IsAbstract: false, IsInterface: false })
            .SelectMany(t => t.GetInterfaces()
                .Where(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IRequestHandler<,>))
                .Select(i => (Service: i, Implementation: t)));
        foreach (var (service, implementation) in handlerTypes)
            services.AddTransient(service, implementation);
    }
}
