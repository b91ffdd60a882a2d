using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using FluentAssertions;
using Marten;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using OpenSvc.Domain;
using OpenSvc.Host.Agent;
using OpenSvc.Tests.Support;
using Xunit;

namespace OpenSvc.Tests.Api;

/// <summary>
/// Issue 12, item 4, through the API: the validate and store requests read a config under one budget created with the
/// request's cancellation, so a client that gives up stops the work instead of leaving the agent's CPUs busy. The client
/// gives up at a point the test chooses (the moment the endpoint has read the whole body, before the work), not after a
/// delay: the test proves the work itself observed the cancellation and stopped.
/// </summary>
[Collection(InProcessEngineCollection.Name)]
public sealed class ConfigCostApiTests : IAsyncLifetime
{
    /// <summary>The 39-byte file that ran for minutes before the budget.</summary>
    const string Bomb = "[DEFAULT]\nnodes = {nodes[9]}{nodes[9]}\n";

    const string Solo = "[DEFAULT]\nnodes = n1\n[fs#0]\ntype = none\ndev = /dev/a\nmnt = /srv/a\n";

    readonly ClientGivesUp _givesUp = new();
    WebApplication _agent = null!;
    HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        var connection = await PostgresServer.NewDatabaseAsync("configcost");
        _agent = AgentHost.Build(new AgentSettings(new NodeName("n1"), "127.0.0.1:0", connection, FakeCluster: true, Workers: 1), connection,
            b =>
            {
                b.WebHost.UseTestServer();
                b.Services.AddSingleton<IStartupFilter>(_givesUp);
            }, ApiTests.Tokens());
        await _agent.Services.GetRequiredService<IDocumentStore>().Storage.ApplyAllConfiguredChangesToDatabaseAsync();
        await _agent.StartAsync();
        _http = _agent.GetTestClient();
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "op-token");
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _agent.StopAsync();
        await _agent.DisposeAsync();
    }

    async Task<HttpResponseMessage> GiveUpAsync(string path, string config)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = ApiTests.ConfigJson(config) };
        request.Headers.Add(ClientGivesUp.Header, "after-body");
        return await _http.SendAsync(request);
    }

    [Fact]
    public async Task a_validate_request_whose_client_gives_up_stops_the_validation()
    {
        var answered = await _http.PostAsync("/api/validate?service=bomb", ApiTests.ConfigJson(Bomb));
        answered.StatusCode.Should().Be(HttpStatusCode.OK, "a client that waits gets the problems");
        (await answered.Content.ReadAsStringAsync()).Should().Contain("expanding references stopped here");

        var gaveUp = await GiveUpAsync("/api/validate?service=bomb", Bomb);

        gaveUp.StatusCode.Should().Be((HttpStatusCode)ClientGivesUp.ClientClosedRequest);
        var stopped = _givesUp.Thrown.Should().ContainSingle().Which;
        stopped.Should().BeAssignableTo<OperationCanceledException>();
        stopped.StackTrace.Should().Contain("ConfigValidator.Validate", "the validation observed the request's cancellation and stopped");
    }

    [Fact]
    public async Task a_store_request_whose_client_gives_up_stops_before_storing()
    {
        var gaveUp = await GiveUpAsync("/api/services/svc-gone", Solo);

        gaveUp.StatusCode.Should().Be((HttpStatusCode)ClientGivesUp.ClientClosedRequest);
        var stopped = _givesUp.Thrown.Should().ContainSingle().Which;
        stopped.Should().BeAssignableTo<OperationCanceledException>();
        stopped.StackTrace.Should().Contain("ConfigValidator.Validate").And.Contain("ConfigureServiceHandler",
            "the store request's validation observed the request's cancellation and stopped");
        (await _http.GetAsync("/api/services/svc-gone")).StatusCode.Should().Be(HttpStatusCode.NotFound, "nothing was stored");

        (await _http.PostAsync("/api/services/svc-gone", ApiTests.ConfigJson(Solo))).StatusCode.Should().Be(HttpStatusCode.Created,
            "the same request from a client that waits is stored");
    }

    /// <summary>
    /// Plays a client that gives up as soon as its request body is sent: for a request carrying <see cref="Header"/>, the
    /// request's cancellation (<see cref="HttpContext.RequestAborted"/>, the endpoints' CancellationToken) fires when the
    /// endpoint has read the whole body, so after binding and before the work. What the pipeline then throws is kept, and
    /// the response is 499 (client closed request).
    /// </summary>
    sealed class ClientGivesUp : IStartupFilter
    {
        public const string Header = "X-Test-Client-Gives-Up";
        public const int ClientClosedRequest = 499;

        public ConcurrentQueue<Exception> Thrown { get; } = new();

        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use(async (context, inner) =>
            {
                if (!context.Request.Headers.ContainsKey(Header))
                {
                    await inner(context);
                    return;
                }
                using var gaveUp = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
                context.Features.Set<IHttpRequestLifetimeFeature>(new Lifetime(context.Features.Get<IHttpRequestLifetimeFeature>(), gaveUp.Token));
                using var body = new MemoryStream();
                await context.Request.Body.CopyToAsync(body);
                context.Request.Body = new CancelsAtEnd(body.ToArray(), gaveUp);
                try
                {
                    await inner(context);
                }
                catch (Exception e)
                {
                    Thrown.Enqueue(e);
                    context.Response.StatusCode = ClientClosedRequest;
                }
            });
            next(app);
        };

        sealed class Lifetime(IHttpRequestLifetimeFeature? inner, CancellationToken aborted) : IHttpRequestLifetimeFeature
        {
            public CancellationToken RequestAborted { get => aborted; set { } }

            public void Abort() => inner?.Abort();
        }

        /// <summary>The body, whose end (a read of 0 bytes) cancels the request.</summary>
        sealed class CancelsAtEnd(byte[] body, CancellationTokenSource cancel) : MemoryStream(body, writable: false)
        {
            public override int Read(byte[] buffer, int offset, int count) => Ended(base.Read(buffer, offset, count));

            public override int Read(Span<byte> buffer) => Ended(base.Read(buffer));

            public override async Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
                Ended(await base.ReadAsync(buffer.AsMemory(offset, count), CancellationToken.None));

            public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
                Ended(await base.ReadAsync(buffer, CancellationToken.None));

            int Ended(int read)
            {
                if (read == 0)
                    cancel.Cancel();
                return read;
            }
        }
    }
}
