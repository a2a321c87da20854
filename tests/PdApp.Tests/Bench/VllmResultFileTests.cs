using System.Text.Json;
using System.Text.RegularExpressions;
using PdApp.Bench;

namespace PdApp.Tests.Bench;

/// <summary>
/// <c>--save-result</c> files read back and checked against the keys vLLM's
/// <c>vllm/benchmarks/serve.py</c> writes (its set-up keys, <c>benchmark()</c>'s result keys, and
/// per <c>--percentile-metrics</c> metric mean/median/std and one key per <c>--metric-percentiles</c>).
/// </summary>
public sealed class VllmResultFileTests : IDisposable
{
    /// <summary>Keys every vLLM result file has (no --metadata, no ramp-up, without --save-detailed).</summary>
    private static readonly string[] VllmKeys =
    [
        "date", "endpoint_type", "backend", "label", "model_id", "tokenizer_id", "num_prompts",
        "request_rate", "burstiness", "max_concurrency",
        "duration", "completed", "failed", "total_input_tokens", "total_output_tokens",
        "request_throughput", "request_goodput", "output_throughput", "total_token_throughput",
    ];

    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("pdapp-bench-vllm-");

    public void Dispose() => _folder.Delete(recursive: true);

    [Fact]
    public async Task SaveResult_WritesVllmsKeysWithTheRunsValues()
    {
        await using var server = await FakeOpenAiServer.StartAsync(new FakeServerBehavior { FirstTokenDelay = TimeSpan.FromMilliseconds(10), TokenDelay = TimeSpan.FromMilliseconds(1) });

        var result = await BenchHarness.RunAsync(
            $"--base-url {server.BaseUrl} --model org/fake-model --dataset-name random --random-input-len 8 --random-output-len 4 --num-prompts 6 " +
            $"--max-concurrency 2 --goodput ttft:10000 e2el:10000 --percentile-metrics ttft,tpot,itl,e2el --metric-percentiles 50,90,99.9 " +
            $"--save-result --result-dir {_folder.FullName} --result-filename run.json --metadata topology=1p1d");

        Assert.True(result.ExitCode == BenchApplication.ExitSuccess, result.Output);
        using var document = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(_folder.FullName, "run.json")));
        var root = document.RootElement;
        foreach (var key in VllmKeys)
        {
            Assert.True(root.TryGetProperty(key, out _), $"missing {key}");
        }

        foreach (var metric in new[] { "ttft", "tpot", "itl", "e2el" })
        {
            foreach (var key in new[] { $"mean_{metric}_ms", $"median_{metric}_ms", $"std_{metric}_ms", $"p50_{metric}_ms", $"p90_{metric}_ms", $"p99.9_{metric}_ms" })
            {
                Assert.Equal(JsonValueKind.Number, root.GetProperty(key).ValueKind);
            }

            Assert.Equal(root.GetProperty($"median_{metric}_ms").GetDouble(), root.GetProperty($"p50_{metric}_ms").GetDouble());
        }

        Assert.Equal("inf", root.GetProperty("request_rate").GetString());
        Assert.Equal(2, root.GetProperty("max_concurrency").GetInt32());
        Assert.Equal(1.0, root.GetProperty("burstiness").GetDouble());
        Assert.Equal("org/fake-model", root.GetProperty("model_id").GetString());
        Assert.Equal("openai", root.GetProperty("backend").GetString());
        Assert.Equal("1p1d", root.GetProperty("topology").GetString());
        Assert.Equal(6, root.GetProperty("num_prompts").GetInt32());
        Assert.Equal(6, root.GetProperty("completed").GetInt32());
        Assert.Equal(0, root.GetProperty("failed").GetInt32());
        Assert.Equal(24, root.GetProperty("total_output_tokens").GetInt32());
        Assert.Equal(48, root.GetProperty("total_input_tokens").GetInt32());
        Assert.Equal(root.GetProperty("request_throughput").GetDouble(), root.GetProperty("request_goodput").GetDouble(), 9);
        Assert.Matches(@"^\d{8}-\d{6}$", root.GetProperty("date").GetString());

        // The same numbers as PdApp's own report of the run.
        var run = result.Run();
        Assert.Equal(run.GetProperty("ttft_ms").GetProperty("mean").GetDouble(), root.GetProperty("mean_ttft_ms").GetDouble(), 9);
        Assert.Equal(run.GetProperty("e2e_ms").GetProperty("std").GetDouble(), root.GetProperty("std_e2el_ms").GetDouble(), 9);
        Assert.Equal(run.GetProperty("duration_s").GetDouble(), root.GetProperty("duration").GetDouble(), 9);
        Assert.Contains("result saved to " + Path.Combine(_folder.FullName, "run.json"), result.Output);
    }

    [Fact]
    public async Task SaveResult_ByDefaultReportsVllmsDefaultMetricsAndNamesTheFileAsVllm()
    {
        await using var server = await FakeOpenAiServer.StartAsync(new FakeServerBehavior { FirstTokenDelay = TimeSpan.FromMilliseconds(1), TokenDelay = TimeSpan.Zero });

        var result = await BenchHarness.RunAsync($"--base-url {server.BaseUrl} --model fake-model --num-prompts 3 --max-concurrency 4 --input-len 4 --output-len 2 --result-dir {_folder.FullName}");

        Assert.True(result.ExitCode == BenchApplication.ExitSuccess, result.Output);
        var file = Assert.Single(_folder.GetFiles());
        Assert.Matches(new Regex(@"^127\.0\.0\.1_\d+-infqps-concurrency4-fake-model-\d{8}-\d{6}\.json$"), file.Name);
        using var document = JsonDocument.Parse(await File.ReadAllTextAsync(file.FullName));
        var root = document.RootElement;
        Assert.True(root.TryGetProperty("p99_ttft_ms", out _));
        Assert.True(root.TryGetProperty("std_itl_ms", out _));
        Assert.False(root.TryGetProperty("mean_e2el_ms", out _));
        Assert.False(root.TryGetProperty("p50_ttft_ms", out _));
        Assert.Equal(JsonValueKind.Null, root.GetProperty("request_goodput").ValueKind);
    }

    [Fact]
    public async Task SaveResult_WithSeveralRuns_WritesOneFileEachNamedByLabelAndConcurrency()
    {
        await using var a = await FakeOpenAiServer.StartAsync(new FakeServerBehavior { FirstTokenDelay = TimeSpan.FromMilliseconds(1), TokenDelay = TimeSpan.Zero });
        await using var b = await FakeOpenAiServer.StartAsync(new FakeServerBehavior { FirstTokenDelay = TimeSpan.FromMilliseconds(1), TokenDelay = TimeSpan.Zero });

        var result = await BenchHarness.RunAsync(
            $"--base-url {a.BaseUrl} --label direct --compare {b.BaseUrl} --compare-label proxy --model fake-model --num-prompts 2 --max-concurrency 1 2 " +
            $"--input-len 4 --output-len 2 --save-result --result-dir {_folder.FullName} --result-filename r.json");

        Assert.True(result.ExitCode == BenchApplication.ExitSuccess, result.Output);
        Assert.Equal(
            ["r-direct-concurrency1.json", "r-direct-concurrency2.json", "r-proxy-concurrency1.json", "r-proxy-concurrency2.json"],
            _folder.GetFiles().Select(f => f.Name).Order(StringComparer.Ordinal));
        using var document = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(_folder.FullName, "r-proxy-concurrency2.json")));
        Assert.Equal("proxy", document.RootElement.GetProperty("label").GetString());
        Assert.Equal(2, document.RootElement.GetProperty("max_concurrency").GetInt32());
        Assert.Equal(b.BaseUrl.GetLeftPart(UriPartial.Authority), document.RootElement.GetProperty("pdapp").GetProperty("target").GetString());
    }
}
