using System.Collections.Concurrent;
using System.Diagnostics.Tracing;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using PdApp.Protocol;
using PdApp.Proxy.Endpoints;

namespace PdApp.Tests.Proxy.Logging;

/// <summary>The request-id logging scope: opened when a logger provider reads scopes, and only then.</summary>
public sealed class RequestLogScopeTests
{
    private static RequestLogScopes ScopesOf(Action<ILoggingBuilder> logging)
    {
        var services = new ServiceCollection();
        services.AddLogging(logging);
        services.AddSingleton<RequestLogScopes>();
        return services.BuildServiceProvider().GetRequiredService<RequestLogScopes>();
    }

    [Fact]
    public void ConsoleAlone_ReadsScopesOnlyWhenItsFormatterIncludesThem()
    {
        Assert.False(ScopesOf(b => b.AddSimpleConsole()).AreRead);
        Assert.True(ScopesOf(b => b.AddSimpleConsole(o => o.IncludeScopes = true)).AreRead);
        Assert.False(ScopesOf(b => b.AddJsonConsole()).AreRead);
        Assert.True(ScopesOf(b => b.AddJsonConsole(o => o.IncludeScopes = true)).AreRead);
        Assert.True(ScopesOf(b => b.AddSystemdConsole(o => o.IncludeScopes = true)).AreRead);
    }

    [Fact]
    public void ConsoleFormatterOptionsChangedAtRunTime_ApplyToTheNextRequest()
    {
        var services = new ServiceCollection();
        services.AddLogging(b => b.AddSimpleConsole());
        services.AddSingleton<RequestLogScopes>();
        using var provider = services.BuildServiceProvider();
        var scopes = provider.GetRequiredService<RequestLogScopes>();
        Assert.False(scopes.AreRead);

        // What a reloaded Logging:Console:FormatterOptions:IncludeScopes does: the monitor's value changes.
        provider.GetRequiredService<Microsoft.Extensions.Options.IOptionsMonitorCache<SimpleConsoleFormatterOptions>>().Clear();
        provider.GetRequiredService<Microsoft.Extensions.Options.IOptionsMonitorCache<SimpleConsoleFormatterOptions>>()
            .TryAdd(Microsoft.Extensions.Options.Options.DefaultName, new SimpleConsoleFormatterOptions { IncludeScopes = true });
        Assert.True(scopes.AreRead);
    }

    [Fact]
    public void AnyOtherProvider_IsAssumedToReadScopes()
    {
        Assert.True(ScopesOf(b => b.AddSimpleConsole().AddProvider(new ScopeCapturingProvider())).AreRead);
    }

    [Fact]
    public void EventSourceProvider_ReadsScopesWhileAListenerIsAttached()
    {
        var scopes = ScopesOf(b => b.AddSimpleConsole().AddEventSourceLogger());
        using var listener = new LoggingListener();

        Assert.True(scopes.AreRead);
    }

    [Fact]
    public async Task WhenScopesAreRead_EveryLogLineOfTheRequestCarriesItsId()
    {
        var captured = new ScopeCapturingProvider();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders().AddProvider(captured);
        builder.Services.AddSingleton<RequestLogScopes>();
        await using var app = builder.Build();
        app.UseMiddleware<RequestIdMiddleware>();
        app.MapGet("/log", (ILogger<RequestLogScopeTests> logger) => logger.LogWarning("inside the request"));
        await app.StartAsync();
        using var client = new HttpClient { BaseAddress = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()) };
        using var request = new HttpRequestMessage(HttpMethod.Get, "/log");
        request.Headers.Add(PdHeaders.RequestId, "req-42");

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var line = Assert.Single(captured.Lines, l => l.Message == "inside the request");
        Assert.Contains(new KeyValuePair<string, object?>(RequestIdLogScope.PropertyName, "req-42"), line.Scopes);
        await app.StopAsync();
    }

    private sealed class LoggingListener : EventListener
    {
        protected override void OnEventSourceCreated(EventSource eventSource)
        {
            if (eventSource.Name == RequestLogScopes.LoggingEventSourceName)
            {
                EnableEvents(eventSource, EventLevel.Informational, (EventKeywords)4); // FormattedMessage
            }
        }
    }

    /// <summary>A provider that reads the external scopes of every line it is given.</summary>
    private sealed class ScopeCapturingProvider : ILoggerProvider, ISupportExternalScope
    {
        private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();

        public ConcurrentQueue<(string Message, List<KeyValuePair<string, object?>> Scopes)> Lines { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Logger(this);

        public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

        public void Dispose()
        {
        }

        private sealed class Logger(ScopeCapturingProvider owner) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => owner._scopes.Push(state);

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                var scopes = new List<KeyValuePair<string, object?>>();
                owner._scopes.ForEachScope(
                    (scope, list) =>
                    {
                        if (scope is IEnumerable<KeyValuePair<string, object>> properties)
                        {
                            list.AddRange(properties.Select(p => new KeyValuePair<string, object?>(p.Key, p.Value)));
                        }
                    },
                    scopes);
                owner.Lines.Enqueue((formatter(state, exception), scopes));
            }
        }
    }
}
