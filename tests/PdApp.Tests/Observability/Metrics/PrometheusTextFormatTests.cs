using System.Globalization;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using PdApp.ServiceDefaults.Metrics;

namespace PdApp.Tests.Observability.Metrics;

/// <summary>
/// The lean exporter writes what OpenTelemetry's Prometheus exporter wrote for the same instruments (the
/// expected lines are the shapes captured from the proxy's <c>/metrics</c> before the exporter changed).
/// Each test uses a meter of its own name, so instruments of parallel tests never mix.
/// </summary>
public sealed class PrometheusTextFormatTests
{
    private static (PrometheusMetricsCollector Collector, Meter Meter) Create(Action<PrometheusMetricsOptions>? configure = null, string? version = null)
    {
        var meterName = "test.prom." + Guid.NewGuid().ToString("N");
        var options = new PrometheusMetricsOptions();
        options.Meters.Clear();
        options.Meters.Add(meterName);
        configure?.Invoke(options);
        var collector = new PrometheusMetricsCollector(Options.Create(options));
        return (collector, new Meter(meterName, version));
    }

    private static string Scope(Meter meter) => $"otel_scope_name=\"{meter.Name}\"";

    [Fact]
    public void Counter_GetsTotalSuffixAndUnit_IntegerValue_SortedLabels()
    {
        var (collector, meter) = Create();
        using var _ = collector;
        using var __ = meter;
        var counter = meter.CreateCounter<long>("pdapp.test.requests", "{request}", "Completed requests.");
        counter.Add(2, new KeyValuePair<string, object?>("route", "/v1/completions"), new KeyValuePair<string, object?>("connector", "Nixl"));
        counter.Add(3, new KeyValuePair<string, object?>("connector", "Nixl"), new KeyValuePair<string, object?>("route", "/v1/completions"));

        var text = collector.WriteToString();

        Assert.Contains("# TYPE pdapp_test_requests_total counter\n# HELP pdapp_test_requests_total Completed requests.\n", text, StringComparison.Ordinal);
        Assert.Contains($"pdapp_test_requests_total{{{Scope(meter)},connector=\"Nixl\",route=\"/v1/completions\"}} 5\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void UpDownCounter_IsGauge_GoesDown()
    {
        var (collector, meter) = Create();
        using var _ = collector;
        using var __ = meter;
        var depth = meter.CreateUpDownCounter<long>("pdapp.test.queue_depth", "{request}", "Waiting now.");
        depth.Add(1);
        depth.Add(1);
        depth.Add(-1);

        var text = collector.WriteToString();

        Assert.Contains($"# TYPE pdapp_test_queue_depth gauge\n# HELP pdapp_test_queue_depth Waiting now.\npdapp_test_queue_depth{{{Scope(meter)}}} 1\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Histogram_CumulativeBucketsFromAdvice_UpperBoundInclusive_SumAndCount()
    {
        var (collector, meter) = Create();
        using var _ = collector;
        using var __ = meter;
        var histogram = meter.CreateHistogram("pdapp.test.duration", "s", "Durations.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.1, 1.0, 2.5] });
        foreach (var value in new[] { 0.05, 0.1, 0.7, 3.0 })
        {
            histogram.Record(value, new KeyValuePair<string, object?>("outcome", "ok"));
        }

        var text = collector.WriteToString();
        var labels = $"{Scope(meter)},outcome=\"ok\"";

        Assert.Contains(
            "# TYPE pdapp_test_duration_seconds histogram\n# HELP pdapp_test_duration_seconds Durations.\n"
            + $"pdapp_test_duration_seconds_bucket{{{labels},le=\"0.1\"}} 2\n"
            + $"pdapp_test_duration_seconds_bucket{{{labels},le=\"1\"}} 3\n"
            + $"pdapp_test_duration_seconds_bucket{{{labels},le=\"2.5\"}} 3\n"
            + $"pdapp_test_duration_seconds_bucket{{{labels},le=\"+Inf\"}} 4\n"
            + $"pdapp_test_duration_seconds_sum{{{labels}}} {(0.05 + 0.1 + 0.7 + 3.0).ToString(CultureInfo.InvariantCulture)}\n"
            + $"pdapp_test_duration_seconds_count{{{labels}}} 4\n",
            text, StringComparison.Ordinal);
    }

    [Fact]
    public void Histogram_WithoutAdvice_GetsOpenTelemetryDefaultBuckets_UnlessOverridden()
    {
        var (collector, meter) = Create(options => options.HistogramBoundaries["pdapp.test.overridden"] = [1, 2]);
        using var _ = collector;
        using var __ = meter;
        meter.CreateHistogram<double>("pdapp.test.plain", "ms").Record(7);
        meter.CreateHistogram<double>("pdapp.test.overridden", "ms").Record(7);

        var text = collector.WriteToString();

        var plainBounds = text.Split('\n').Where(l => l.StartsWith("pdapp_test_plain_milliseconds_bucket", StringComparison.Ordinal))
            .Select(l => l[(l.IndexOf("le=\"", StringComparison.Ordinal) + 4)..l.LastIndexOf('"')]);
        Assert.Equal(["0", "5", "10", "25", "50", "75", "100", "250", "500", "750", "1000", "2500", "5000", "7500", "10000", "+Inf"], plainBounds);
        Assert.Contains($"pdapp_test_overridden_milliseconds_bucket{{{Scope(meter)},le=\"2\"}} 0\n", text, StringComparison.Ordinal);
        Assert.Contains($"pdapp_test_overridden_milliseconds_bucket{{{Scope(meter)},le=\"+Inf\"}} 1\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void ObservableGauge_ReadAtEachScrape_LastValue_UnitOneAddsNoSuffix()
    {
        var (collector, meter) = Create();
        using var _ = collector;
        using var __ = meter;
        var usage = 0.25;
        meter.CreateObservableGauge("pdapp.test.kv_cache_usage", () => new Measurement<double>(usage, new KeyValuePair<string, object?>("instance", "decode-0")), "1", "Usage.");

        var first = collector.WriteToString();
        usage = 0.5;
        var second = collector.WriteToString();

        Assert.Contains($"# TYPE pdapp_test_kv_cache_usage gauge\n# HELP pdapp_test_kv_cache_usage Usage.\npdapp_test_kv_cache_usage{{{Scope(meter)},instance=\"decode-0\"}} 0.25\n", first, StringComparison.Ordinal);
        Assert.Contains($"pdapp_test_kv_cache_usage{{{Scope(meter)},instance=\"decode-0\"}} 0.5\n", second, StringComparison.Ordinal);
    }

    [Fact]
    public void ObservableCounter_ReportsItsTotal_NotASumOfScrapes()
    {
        var (collector, meter) = Create();
        using var _ = collector;
        using var __ = meter;
        meter.CreateObservableCounter("pdapp.test.gc.collections", () => 7L, "{collection}");

        collector.WriteToString();
        var text = collector.WriteToString();

        Assert.Contains($"pdapp_test_gc_collections_total{{{Scope(meter)}}} 7\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void TagValues_AreEscaped_KeysSanitised_NonStringsInvariant()
    {
        var (collector, meter) = Create();
        using var _ = collector;
        using var __ = meter;
        meter.CreateCounter<long>("pdapp.test.escapes").Add(1,
            new KeyValuePair<string, object?>("http.route", "a\"b\\c\nd"),
            new KeyValuePair<string, object?>("server.port", 8080),
            new KeyValuePair<string, object?>("ok", true),
            new KeyValuePair<string, object?>("ignored", null));

        var text = collector.WriteToString();

        Assert.Contains($"pdapp_test_escapes_total{{{Scope(meter)},http_route=\"a\\\"b\\\\c\\nd\",ok=\"true\",server_port=\"8080\"}} 1\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void MeterVersion_IsScopeVersionLabel_AndMetricsAreSortedByName_EmptyOnesLeftOut()
    {
        var (collector, meter) = Create(version: "1.2");
        using var _ = collector;
        using var __ = meter;
        meter.CreateCounter<long>("pdapp.test.zeta").Add(1);
        meter.CreateCounter<long>("pdapp.test.alpha").Add(1);
        meter.CreateCounter<long>("pdapp.test.never");

        var text = collector.WriteToString();

        Assert.Contains($"pdapp_test_alpha_total{{{Scope(meter)},otel_scope_version=\"1.2\"}} 1\n", text, StringComparison.Ordinal);
        Assert.True(text.IndexOf("pdapp_test_alpha_total", StringComparison.Ordinal) < text.IndexOf("pdapp_test_zeta_total", StringComparison.Ordinal));
        Assert.DoesNotContain("pdapp_test_never", text, StringComparison.Ordinal);
        Assert.StartsWith("# TYPE target_info gauge\n# HELP target_info Target metadata\ntarget_info{", text, StringComparison.Ordinal);
    }

    [Fact]
    public void OpenMetrics_FamilyWithoutTotal_UnitLine_Created_FloatBounds_Eof()
    {
        var (collector, meter) = Create();
        using var _ = collector;
        using var __ = meter;
        meter.CreateCounter<long>("pdapp.test.requests", "{request}", "Requests.").Add(1);
        meter.CreateHistogram("pdapp.test.latency", "s", "Latency.", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.5, 1] }).Record(0.7);

        var text = collector.WriteToString(openMetrics: true);

        Assert.StartsWith("# TYPE target info\n# HELP target Target metadata\ntarget_info{", text, StringComparison.Ordinal);
        Assert.Contains("# TYPE pdapp_test_requests counter\n# HELP pdapp_test_requests Requests.\n"
            + $"pdapp_test_requests_total{{{Scope(meter)}}} 1\npdapp_test_requests_created{{{Scope(meter)}}} ", text, StringComparison.Ordinal);
        Assert.Contains("# TYPE pdapp_test_latency_seconds histogram\n# UNIT pdapp_test_latency_seconds seconds\n# HELP pdapp_test_latency_seconds Latency.\n", text, StringComparison.Ordinal);
        Assert.Contains($"pdapp_test_latency_seconds_bucket{{{Scope(meter)},le=\"0.5\"}} 0\npdapp_test_latency_seconds_bucket{{{Scope(meter)},le=\"1.0\"}} 1\n", text, StringComparison.Ordinal);
        Assert.Contains($"pdapp_test_latency_seconds_created{{{Scope(meter)}}} ", text, StringComparison.Ordinal);
        Assert.EndsWith("# EOF\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void PastTheCardinalityLimit_NewTagSetsShareTheOverflowSeries_KnownOnesGoOn()
    {
        var (collector, meter) = Create(options => options.CardinalityLimit = 2);
        using var _ = collector;
        using var __ = meter;
        var counter = meter.CreateCounter<long>("pdapp.test.by_instance");
        foreach (var instance in new[] { "a", "b", "c", "d", "a" })
        {
            counter.Add(1, new KeyValuePair<string, object?>("instance", instance));
        }

        var text = collector.WriteToString();

        Assert.Contains($"pdapp_test_by_instance_total{{{Scope(meter)},instance=\"a\"}} 2\n", text, StringComparison.Ordinal);
        Assert.Contains($"pdapp_test_by_instance_total{{{Scope(meter)},instance=\"b\"}} 1\n", text, StringComparison.Ordinal);
        Assert.Contains($"pdapp_test_by_instance_total{{{Scope(meter)},otel_metric_overflow=\"true\"}} 2\n", text, StringComparison.Ordinal);
        Assert.DoesNotContain("instance=\"c\"", text, StringComparison.Ordinal);
    }

    [Fact]
    public void DroppedInstruments_AreNeverExported_PrefixPatternToo()
    {
        var (collector, meter) = Create(options =>
        {
            options.DroppedInstruments.Add("pdapp.test.pool.*");
            options.DroppedInstruments.Add("pdapp.test.exact");
        });
        using var _ = collector;
        using var __ = meter;
        meter.CreateCounter<long>("pdapp.test.pool.rented").Add(1);
        meter.CreateCounter<long>("pdapp.test.exact").Add(1);
        meter.CreateCounter<long>("pdapp.test.kept").Add(1);

        var text = collector.WriteToString();

        Assert.DoesNotContain("pdapp_test_pool", text, StringComparison.Ordinal);
        Assert.DoesNotContain("pdapp_test_exact", text, StringComparison.Ordinal);
        Assert.Contains("pdapp_test_kept_total", text, StringComparison.Ordinal);
    }

    [Fact]
    public void TwoMetersOfOneName_RecordIntoOneMetric()
    {
        var (collector, meter) = Create();
        using var _ = collector;
        using var __ = meter;
        using var twin = new Meter(meter.Name);
        meter.CreateCounter<long>("pdapp.test.shared").Add(1);
        twin.CreateCounter<long>("pdapp.test.shared").Add(2);

        var text = collector.WriteToString();

        Assert.Contains($"pdapp_test_shared_total{{{Scope(meter)}}} 3\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConcurrentRecords_AreAllCounted()
    {
        var (collector, meter) = Create();
        using var _ = collector;
        using var __ = meter;
        var counter = meter.CreateCounter<long>("pdapp.test.concurrent");
        var histogram = meter.CreateHistogram<double>("pdapp.test.concurrent_seconds", "s");
        await Task.WhenAll(Enumerable.Range(0, 8).Select(worker => Task.Run(() =>
        {
            for (var i = 0; i < 10_000; i++)
            {
                var tag = new KeyValuePair<string, object?>("worker", worker % 2);
                counter.Add(1, tag);
                histogram.Record(1, tag);
            }
        })));

        var text = collector.WriteToString();

        Assert.Contains($"pdapp_test_concurrent_total{{{Scope(meter)},worker=\"0\"}} 40000\n", text, StringComparison.Ordinal);
        Assert.Contains($"pdapp_test_concurrent_total{{{Scope(meter)},worker=\"1\"}} 40000\n", text, StringComparison.Ordinal);
        Assert.Contains($"pdapp_test_concurrent_seconds_count{{{Scope(meter)},worker=\"1\"}} 40000\n", text, StringComparison.Ordinal);
        Assert.Contains($"pdapp_test_concurrent_seconds_sum{{{Scope(meter)},worker=\"1\"}} 40000\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void KnownTagSet_RecordsWithoutAllocating()
    {
        var (collector, meter) = Create();
        using var _ = collector;
        using var __ = meter;
        var counter = meter.CreateCounter<long>("pdapp.test.hot");
        var histogram = meter.CreateHistogram<double>("pdapp.test.hot_seconds", "s");
        var route = new KeyValuePair<string, object?>("route", "/v1/completions");
        var status = new KeyValuePair<string, object?>("status", "200");
        counter.Add(1, route, status);
        histogram.Record(0.2, status, route);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            counter.Add(1, route, status);
            histogram.Record(0.2, status, route);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Contains($"pdapp_test_hot_total{{{Scope(meter)},route=\"/v1/completions\",status=\"200\"}} 1001\n", collector.WriteToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void HostCollector_ExportsItsOwnFactorysMetersAndUnscopedOnes_NotAnotherHostsOfTheSameName()
    {
        var meterName = "test.prom." + Guid.NewGuid().ToString("N");
        using var host = new ServiceCollection().AddMetrics().BuildServiceProvider();
        using var otherHost = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var options = new PrometheusMetricsOptions();
        options.Meters.Clear();
        options.Meters.Add(meterName);
        using var collector = new PrometheusMetricsCollector(Options.Create(options), host.GetRequiredService<IMeterFactory>());
        using var unscoped = new Meter(meterName);
        var own = host.GetRequiredService<IMeterFactory>().Create(meterName).CreateCounter<long>("pdapp.test.decisions");
        var other = otherHost.GetRequiredService<IMeterFactory>().Create(meterName).CreateCounter<long>("pdapp.test.decisions");
        var shared = unscoped.CreateCounter<long>("pdapp.test.decisions");

        own.Add(1);
        other.Add(100);
        shared.Add(10);

        Assert.Contains($"pdapp_test_decisions_total{{otel_scope_name=\"{meterName}\"}} 11\n", collector.WriteToString(), StringComparison.Ordinal);
    }
}
