using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using PdApp.Protocol;
using PdApp.Proxy.Pipeline;
using PdApp.Proxy.Pipeline.Flows;
using PdApp.Proxy.Pipeline.Flows.LMCache;
using PdApp.Proxy.Pipeline.Forwarding;
using PdApp.Proxy.Pipeline.Migration;
using PdApp.Proxy.Pipeline.Options;
using PdApp.Proxy.Pipeline.Requests;
using PdApp.Proxy.Routing;
using PdApp.Proxy.Routing.Options;
using PdApp.Tests.Proxy.Routing;
using Yarp.ReverseProxy.Forwarder;

namespace PdApp.Tests.Proxy.Pipeline;

/// <summary>
/// The request pipeline wired as in the proxy (flow, selector, prefill client, YARP decode relay,
/// the one timeout policy) over <see cref="ScriptedUpstream"/> instead of sockets, run on a
/// <see cref="DefaultHttpContext"/>.
/// </summary>
internal sealed class PipelineHarness : IDisposable
{
    private readonly ServiceProvider _services;
    private readonly UpstreamChannel _channel;
    private readonly SelectorFixture _routing = new(BalancingPolicyKind.RoundRobin, BalancingPolicyKind.RoundRobin);

    public PipelineHarness(
        string connector,
        Action<ProxyOptions>? configure = null,
        bool decodeOnlyFallback = false,
        TimeProvider? kvClock = null,
        ILogger<MigrationTimeline>? timingLogger = null,
        params string[] children)
    {
        var deployment = new DeploymentOptions { Connector = connector, ChildConnectors = [.. children] };
        var proxy = new ProxyOptions();
        configure?.Invoke(proxy);
        _services = new ServiceCollection().AddLogging().AddHttpForwarder().BuildServiceProvider();
        var timeouts = new UpstreamTimeouts(Options.Create(proxy));
        _channel = new UpstreamChannel(Upstream);
        Flow = ConnectorFlowResolver.Create(deployment, KvReady, Options.Create(new LMCacheOptions()), kvClock ?? TimeProvider.System);
        Pipeline = new PdRequestPipeline(
            Flow,
            _routing.Selector,
            new PrefillClient(_channel, timeouts, Options.Create(proxy), Options.Create(deployment)),
            new DecodeForwarder(_services.GetRequiredService<IHttpForwarder>(), _channel, timeouts, Options.Create(deployment)),
            Options.Create(proxy),
            Options.Create(new ReadinessOptions { DecodeOnlyFallback = decodeOnlyFallback }),
            _routing.Registry,
            _routing.Clock,
            NullLogger<PdRequestPipeline>.Instance,
            timingLogger: timingLogger);
    }

    public ScriptedUpstream Upstream { get; } = new();

    /// <summary>The waits LMCache's KV-ready notifications release (what the proxy's socket signals).</summary>
    public KvReadyNotifications KvReady { get; } = new();

    public DisaggregationFlow Flow { get; }

    public PdRequestPipeline Pipeline { get; }

    /// <summary>The routing registry the pipeline selects from.</summary>
    public InstanceRegistry Registry => _routing.Registry;

    /// <summary>Adds instances named <c>{role}-{i}</c> at <c>http://{role}-{i}/</c>.</summary>
    public PipelineHarness With(PdRole role, int count)
    {
        for (var i = 0; i < count; i++)
        {
            var name = $"{role.ToString().ToLowerInvariant()}-{i}";
            _routing.Registry.AddOrUpdate(new UpstreamInstance(name, role, new Uri($"http://{name}/"), InstanceSource.Configuration, kvAddress: $"10.0.0.{(int)role * 10 + i}:14579"));
        }

        return this;
    }

    public async Task<PipelineResult> RunAsync(string json, OpenAiRoute route = OpenAiRoute.Completions, Action<HttpRequest>? configure = null)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = HttpMethods.Post;
        context.Request.Scheme = "http";
        context.Request.Host = new HostString("proxy");
        context.Request.Protocol = "HTTP/1.1";
        context.Request.Path = OpenAiRoutes.PathOf(route);
        configure?.Invoke(context.Request);
        var body = new MemoryStream();
        context.Response.Body = body;
        Assert.True(CompletionRequestParser.TryParse(route, Encoding.UTF8.GetBytes(json), null, out var request, out var invalid), invalid?.ToString());
        var exchange = new PdExchange();
        var observer = new RecordingObserver();
        using (request)
        {
            await Pipeline.RunAsync(context, request!, "req-1", exchange, observer);
        }

        return new PipelineResult(context.Response.StatusCode, context.Response.Headers, Encoding.UTF8.GetString(body.ToArray()), exchange, observer.Events, Upstream.Calls);
    }

    public void Dispose()
    {
        _channel.Dispose();
        _services.Dispose();
    }
}

/// <summary>What the client got and what happened upstream.</summary>
internal sealed record PipelineResult(
    int Status, IHeaderDictionary Headers, string Body, PdExchange Exchange, IReadOnlyList<string> Events, IReadOnlyList<UpstreamCall> Calls)
{
    public IEnumerable<UpstreamCall> Prefills => Calls.Where(c => c.ToPrefill);

    public IEnumerable<UpstreamCall> Decodes => Calls.Where(c => !c.ToPrefill);
}
