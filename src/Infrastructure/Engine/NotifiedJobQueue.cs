using System.Data;
using System.Data.Common;
using Hangfire.PostgreSql;
using Hangfire.Storage;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace OpenSvc.Infrastructure.Engine;

/// <summary>
/// The Hangfire queues of this agent (its node queue and the orchestration queue), woken by a notification
/// instead of a poll.
/// <para>
/// Hangfire.PostgreSql's long polling issues LISTEN on a fresh connection for every fetch and its payload-less
/// NOTIFY wakes every worker of every agent; across processes a step waited hundreds of milliseconds, and the
/// empty fetches cost more CPU than the steps. Here a trigger on Hangfire's queue table notifies the queue's
/// name whenever a job is put in it (enqueued, scheduled job due, recurring job, requeued), in the transaction
/// that does it, whatever process or code path did it. One long-lived connection per agent LISTENs, and each
/// notification wakes one worker serving that queue, which takes the job with <c>FOR UPDATE SKIP LOCKED</c> in
/// a single statement. The jobs, the queue table and the fetched job (its removal, requeue and sliding
/// invisibility) stay Hangfire.PostgreSql's, so the dashboard sees no difference. A slow poll remains as the
/// safety net for a notification lost while the listener reconnects.
/// </para>
/// </summary>
public sealed class NotifiedJobQueueProvider : IPersistentJobQueueProvider, IPersistentJobQueue, IDisposable
{
    /// <summary>The trigger's name and its function's, in Hangfire's schema.</summary>
    const string Trigger = "opensvc_jobqueue_notify";
    static readonly TimeSpan ReconnectDelay = TimeSpan.FromSeconds(1);

    readonly PostgreSqlStorage _storage;
    readonly NpgsqlDataSource _dataSource;
    readonly PostgreSqlJobQueueProvider _inner;
    readonly string _schema;
    readonly string _channel;
    readonly TimeSpan _poll;
    readonly TimeSpan _invisibility;
    readonly ILogger _log;
    readonly CancellationTokenSource _stop = new();
    readonly Lock _gate = new();
    readonly Dictionary<string, Wakeup> _wakeups = new(StringComparer.Ordinal);
    Task? _listener;

    public NotifiedJobQueueProvider(PostgreSqlStorage storage, string connectionString, PostgreSqlStorageOptions options, TimeSpan poll, ILogger log)
    {
        ArgumentNullException.ThrowIfNull(storage);
        ArgumentNullException.ThrowIfNull(options);
        _storage = storage;
        _inner = new PostgreSqlJobQueueProvider(storage, options);
        _schema = options.SchemaName;
        _channel = ChannelOf(options.SchemaName);
        _poll = poll;
        _invisibility = options.InvisibilityTimeout;
        _log = log;
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { Enlist = false, KeepAlive = 10 };
        _dataSource = Workflows.Engine.PrimaryDataSource.Create(builder.ConnectionString);
    }

    public IPersistentJobQueue GetJobQueue() => this;

    public IPersistentJobQueueMonitoringApi GetJobQueueMonitoringApi() => _inner.GetJobQueueMonitoringApi();

    /// <summary>The channel a Hangfire schema's queue table notifies (payload: the queue name).</summary>
    public static string ChannelOf(string schema) => $"{schema}.jobqueue";

    /// <summary>
    /// Installs the trigger that notifies every job put in a queue, once Hangfire's schema exists. Idempotent, and
    /// serialized by an advisory lock so agents starting together do not race.
    /// </summary>
    public static void InstallTrigger(string connectionString, string schema)
    {
        using var connection = new NpgsqlConnection(connectionString);
        connection.Open();
        using var tx = connection.BeginTransaction();
        using var command = connection.CreateCommand();
        command.Transaction = tx;
        var table = $"\"{schema}\".\"jobqueue\"";
        var function = $"\"{schema}\".\"{Trigger}\"";
        command.CommandText = $"""
            SELECT pg_advisory_xact_lock(hashtext('{Trigger}'));
            CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $f$
            BEGIN
                IF NEW."fetchedat" IS NULL THEN
                    PERFORM pg_notify(TG_TABLE_SCHEMA || '.jobqueue', NEW."queue");
                END IF;
                RETURN NULL;
            END $f$;
            DO $d$ BEGIN
                IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = '{Trigger}' AND tgrelid = '{table}'::regclass) THEN
                    CREATE TRIGGER "{Trigger}" AFTER INSERT OR UPDATE OF "fetchedat" ON {table}
                        FOR EACH ROW EXECUTE FUNCTION {function}();
                END IF;
            END $d$;
            """;
        command.ExecuteNonQuery();
        tx.Commit();
    }

    /// <summary>Hangfire's own insert: the trigger notifies, in this transaction, so at commit.</summary>
    public void Enqueue(IDbConnection connection, string queue, string jobId)
    {
        ArgumentNullException.ThrowIfNull(connection);
        using var command = (DbCommand)connection.CreateCommand();
        command.CommandText = $"""INSERT INTO "{_schema}"."jobqueue" ("jobid", "queue") VALUES (@jobid, @queue)""";
        var id = command.CreateParameter();
        id.ParameterName = "jobid";
        id.Value = long.Parse(jobId, System.Globalization.CultureInfo.InvariantCulture);
        command.Parameters.Add(id);
        var q = command.CreateParameter();
        q.ParameterName = "queue";
        q.Value = queue;
        command.Parameters.Add(q);
        command.ExecuteNonQuery();
    }

    public IFetchedJob Dequeue(string[] queues, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(queues);
        if (queues.Length == 0)
            throw new ArgumentException("no queue to fetch from", nameof(queues));
        EnsureListening();
        var wakeup = WakeupFor(queues);
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (TryFetch(queues, cancellationToken) is { } job)
                return job;
            // Woken by a notification for one of these queues, or the poll: either way, fetch again.
            wakeup.Wait(_poll, cancellationToken);
        }
    }

    IFetchedJob? TryFetch(string[] queues, CancellationToken ct)
    {
        try
        {
            using var connection = _dataSource.OpenConnection();
            using var command = connection.CreateCommand();
            // Oldest job of the first queue that has one; a job fetched by an agent that died is taken again
            // after the invisibility timeout (Hangfire.PostgreSql's rule), unless its fetch is kept alive.
            command.CommandText = $"""
                UPDATE "{_schema}"."jobqueue" SET "fetchedat" = NOW()
                WHERE "id" = (
                    SELECT "id" FROM "{_schema}"."jobqueue"
                    WHERE "queue" = ANY(@queues) AND ("fetchedat" IS NULL OR "fetchedat" < NOW() - @invisibility)
                    ORDER BY array_position(@queues, "queue"), "fetchedat" NULLS FIRST, "jobid"
                    LIMIT 1
                    FOR UPDATE SKIP LOCKED)
                RETURNING "id", "jobid", "queue", "fetchedat";
                """;
            command.Parameters.AddWithValue("queues", queues);
            command.Parameters.AddWithValue("invisibility", _invisibility);
            long id, jobId;
            string queue;
            DateTime fetchedAt;
            using (var reader = command.ExecuteReader())
            {
                if (!reader.Read())
                    return null;
                (id, jobId, queue, fetchedAt) = (reader.GetInt64(0), reader.GetInt64(1), reader.GetString(2), reader.GetDateTime(3));
            }
            try
            {
                return new PostgreSqlFetchedJob(_storage, id, jobId.ToString(System.Globalization.CultureInfo.InvariantCulture), queue, fetchedAt);
            }
            catch (Exception ex)
            {
                // Fetched but not handed to a worker: give it back at once, or it stays invisible for the whole
                // invisibility timeout (the reconciler would also requeue its step, later).
                Release(connection, id);
                _log.LogError(ex, "job {JobId} fetched from {Queue} could not be handed to a worker; released", jobId, queue);
                throw;
            }
        }
        catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException && !ct.IsCancellationRequested)
        {
            _log.LogWarning("fetching a job from {Queues} failed: {Error}", string.Join(',', queues), ex.Message);
            ct.WaitHandle.WaitOne(_poll);
            return null;
        }
    }

    void Release(NpgsqlConnection connection, long id)
    {
        try
        {
            using var release = connection.CreateCommand();
            release.CommandText = $"""UPDATE "{_schema}"."jobqueue" SET "fetchedat" = NULL WHERE "id" = @id""";
            release.Parameters.AddWithValue("id", id);
            release.ExecuteNonQuery();
        }
        catch (NpgsqlException ex)
        {
            _log.LogWarning("job queue row {Id} could not be released ({Error}); it is fetched again after the invisibility timeout", id, ex.Message);
        }
    }

    Wakeup WakeupFor(string[] queues)
    {
        var key = string.Join('\n', queues);
        lock (_gate)
        {
            if (!_wakeups.TryGetValue(key, out var w))
                _wakeups[key] = w = new Wakeup(queues);
            return w;
        }
    }

    void EnsureListening()
    {
        lock (_gate)
            _listener ??= Task.Run(() => ListenAsync(_stop.Token));
    }

    /// <summary>One notification, one worker woken (of each set of queues that contains its queue; all of them when the queue is unknown).</summary>
    void Wake(string? queue)
    {
        Wakeup[] all;
        lock (_gate)
            all = [.. _wakeups.Values];
        foreach (var w in all)
            if (string.IsNullOrEmpty(queue) || w.Serves(queue))
                w.Signal();
    }

    async Task ListenAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await using var connection = await _dataSource.OpenConnectionAsync(ct).ConfigureAwait(false);
                connection.Notification += (_, e) => Wake(e.Payload);
                await using (var listen = connection.CreateCommand())
                {
                    listen.CommandText = $"LISTEN \"{_channel}\"";
                    await listen.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                }
                Wake(null); // whatever was enqueued while we were not listening
                while (!ct.IsCancellationRequested)
                    await connection.WaitAsync(ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or System.IO.IOException or TimeoutException)
            {
                // Until it is back, workers fetch on their poll; once back, it wakes them for what came meanwhile.
                _log.LogWarning("job notifications lost ({Error}); listening again in {Delay}", ex.Message, ReconnectDelay);
                try
                {
                    await Task.Delay(ReconnectDelay, ct).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        try
        {
            _listener?.Wait(TimeSpan.FromSeconds(2));
        }
        catch (AggregateException)
        {
        }
        _dataSource.Dispose();
        _stop.Dispose();
    }

    /// <summary>
    /// Wakes the workers fetching from one set of queues, one per signal. Signals given while no worker waits
    /// are kept (bounded), so a worker back from a job fetches at once; a spare one costs a single empty fetch.
    /// A monitor, not a SemaphoreSlim: sixteen idle workers spinning before they block cost more CPU than the steps.
    /// </summary>
    sealed class Wakeup(string[] queues)
    {
        const int MaxPending = 64;
        readonly object _gate = new();
        int _pending;

        public bool Serves(string queue) => Array.IndexOf(queues, queue) >= 0;

        public void Signal()
        {
            lock (_gate)
            {
                if (_pending < MaxPending)
                    _pending++;
                Monitor.Pulse(_gate);
            }
        }

        public void Wait(TimeSpan timeout, CancellationToken ct)
        {
            using var wake = ct.Register(() => { lock (_gate) Monitor.PulseAll(_gate); });
            lock (_gate)
            {
                if (_pending == 0 && !ct.IsCancellationRequested)
                    Monitor.Wait(_gate, timeout);
                if (_pending > 0)
                    _pending--;
            }
            ct.ThrowIfCancellationRequested();
        }
    }
}
