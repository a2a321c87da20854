using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.Options;
using PdApp.Proxy.Buffers;
using PdApp.Proxy.Routing;

namespace PdApp.Proxy.Routing.Load;

/// <summary>
/// Every <c>Pd:Proxy:LoadScrape:IntervalSeconds</c>, GETs each instance's <c>/metrics</c> (vLLM serves
/// it without <c>--api-key</c>: only <c>/v1</c> routes are guarded, see
/// vllm/entrypoints/openai/api_server.py), reads vLLM's load gauges and stores them in
/// <see cref="UpstreamInstance.Load"/> for the <c>LoadAware</c> policy and the
/// <c>pdapp.instance.*</c> gauges. Instances are scraped in parallel, each bounded by the timeout.
/// The HTTP client is a named factory client without the standard resilience handler (retries
/// would only delay the next reading).
/// </summary>
public sealed partial class InstanceLoadScraper : BackgroundService
{
    /// <summary>The named <see cref="HttpClient"/> used for scrapes.</summary>
    public const string HttpClientName = "PdApp.LoadScrape";

    private readonly IInstanceRegistry _registry;
    private readonly IHttpClientFactory _httpClientFactory;
    private readonly IRoutingObserver _observer;
    private readonly LoadScrapeOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<InstanceLoadScraper> _logger;
    private readonly ConcurrentDictionary<string, string> _failing = new(StringComparer.Ordinal);

    /// <summary>Creates the scraper.</summary>
    /// <param name="registry">The instances.</param>
    /// <param name="httpClientFactory">Provides <see cref="HttpClientName"/>.</param>
    /// <param name="observer">Told of scrape errors and durations.</param>
    /// <param name="options">Interval and timeout.</param>
    /// <param name="time">The clock.</param>
    /// <param name="logger">Logs failures once per failing period.</param>
    public InstanceLoadScraper(
        IInstanceRegistry registry,
        IHttpClientFactory httpClientFactory,
        IRoutingObserver observer,
        IOptions<LoadScrapeOptions> options,
        TimeProvider time,
        ILogger<InstanceLoadScraper> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _registry = registry;
        _httpClientFactory = httpClientFactory;
        _observer = observer;
        _options = options.Value;
        _time = time;
        _logger = logger;
    }

    /// <summary>Scrapes every instance once (the loop's body; tests call it directly).</summary>
    /// <param name="cancellationToken">Stops the round.</param>
    /// <returns>A task that completes when every instance was scraped or timed out.</returns>
    public Task ScrapeAllAsync(CancellationToken cancellationToken) =>
        Task.WhenAll(_registry.Instances.Select(instance => ScrapeAsync(instance, cancellationToken)));

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!_options.Enabled)
        {
            return;
        }

        using var timer = new PeriodicTimer(_options.Interval, _time);
        do
        {
            await ScrapeAllAsync(stoppingToken);
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    private async Task ScrapeAsync(UpstreamInstance instance, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.Timeout);
        string? failure = null;
        string? detail = null;
        try
        {
            var client = _httpClientFactory.CreateClient(HttpClientName);
            using var request = new HttpRequestMessage(HttpMethod.Get, instance.BaseAddress.AbsoluteUri.TrimEnd('/') + "/metrics");
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                (failure, detail) = ("http_status", $"HTTP {(int)response.StatusCode}");
            }
            else
            {
                using var page = new PooledByteBuffer(16 * 1024);
                if (!await ReadLimitedAsync(response.Content, page, _options.MaxResponseBytes, timeout.Token))
                {
                    (failure, detail) = ("too_large", $"larger than {_options.MaxResponseBytes} bytes");
                }
                else if (!VllmLoadReader.TryRead(page.WrittenSpan, _time.GetUtcNow(), out var load))
                {
                    (failure, detail) = ("no_vllm_gauges", $"no {VllmLoadReader.RunningMetric} or {VllmLoadReader.WaitingMetric} on the page");
                }
                else
                {
                    instance.Load = load;
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return;
        }
        catch (OperationCanceledException)
        {
            (failure, detail) = ("timeout", $"no answer within {_options.TimeoutSeconds} s");
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or InvalidOperationException)
        {
            (failure, detail) = ("transport", ex.Message);
        }

        _observer.LoadScraped(instance, Stopwatch.GetElapsedTime(started).TotalSeconds);
        if (failure is null)
        {
            if (_failing.TryRemove(instance.Name, out _))
            {
                LogRecovered(instance.Name);
            }

            return;
        }

        _observer.LoadScrapeFailed(instance, failure);

        // Warn once when an instance starts failing (it may be loading its model), then Debug.
        if (_failing.TryAdd(instance.Name, failure))
        {
            LogFailing(instance.Name, failure, detail);
        }
        else
        {
            LogStillFailing(instance.Name, failure, detail);
        }
    }

    // Reads the page into a pooled buffer; false when it is larger than the limit.
    private static async Task<bool> ReadLimitedAsync(HttpContent content, PooledByteBuffer page, int limit, CancellationToken cancellationToken)
    {
        if (content.Headers.ContentLength > limit)
        {
            return false;
        }

        await using var stream = await content.ReadAsStreamAsync(cancellationToken);
        int read;
        while ((read = await stream.ReadAsync(page.GetMemory(16 * 1024), cancellationToken)) > 0)
        {
            page.Advance(read);
            if (page.WrittenCount > limit)
            {
                return false;
            }
        }

        return true;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Load scrape of {Instance} failing ({Reason}: {Detail}); load-aware balancing falls back to outstanding requests for it")]
    private partial void LogFailing(string instance, string reason, string? detail);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Load scrape of {Instance} still failing ({Reason}: {Detail})")]
    private partial void LogStillFailing(string instance, string reason, string? detail);

    [LoggerMessage(Level = LogLevel.Information, Message = "Load scrape of {Instance} succeeds again")]
    private partial void LogRecovered(string instance);
}
