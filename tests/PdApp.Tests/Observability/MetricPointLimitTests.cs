using System.Diagnostics.Metrics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace PdApp.Tests.Observability;

/// <summary>
/// The service defaults bound every metric stream to <see cref="Microsoft.Extensions.Hosting.ServiceDefaultsExtensions.MaxMetricPointsPerStream"/>
/// tag sets (the SDK allocates each stream's points up front, so the bound is memory every process holds);
/// tag sets past it are exported under <c>otel_metric_overflow</c> rather than lost.
/// </summary>
public sealed class MetricPointLimitTests
{
    private const string MeterName = "pdapp.tests.limit";

    [Fact]
    public async Task TagSetsPastTheLimit_AreExportedAsOverflow()
    {
        var builder = WebApplication.CreateBuilder(["--urls=http://127.0.0.1:0", "--Logging:LogLevel:Default=Warning"]);
        builder.AddServiceDefaults(MeterName);
        await using var app = builder.Build();
        app.MapDefaultEndpoints();
        await app.StartAsync();
        using var meter = new Meter(MeterName);
        var counter = meter.CreateCounter<long>("pdapp.tests.tagged");

        var limit = ServiceDefaultsExtensions.MaxMetricPointsPerStream;
        for (var i = 0; i < limit + 100; i++)
        {
            counter.Add(1, new KeyValuePair<string, object?>("key", i));
        }

        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        using var client = new HttpClient { BaseAddress = new Uri(address) };
        var page = await client.GetStringAsync(new Uri("/metrics", UriKind.Relative));
        var series = page.Split('\n').Where(line => line.StartsWith("pdapp_tests_tagged_total{", StringComparison.Ordinal)).ToList();

        Assert.Contains(series, line => line.Contains("otel_metric_overflow=\"true\"", StringComparison.Ordinal));
        Assert.InRange(series.Count, limit - 2, limit + 1);
        await app.StopAsync();
    }
}
