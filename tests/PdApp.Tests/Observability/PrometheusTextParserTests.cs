using PdApp.Proxy.Routing.Load;
using PdApp.Tests.Observability.TestData;

namespace PdApp.Tests.Observability;

public sealed class PrometheusTextParserTests
{
    [Fact]
    public void VllmPage_EverySampleParsedAndCommentsSkipped()
    {
        var result = PrometheusTextParser.Parse(VllmMetricsSamples.Vllm011);

        Assert.Equal(0, result.MalformedLines);
        var running = Assert.Single(result.Samples, s => s.Name == "vllm:num_requests_running");
        Assert.Equal(3.0, running.Value);
        Assert.Equal("meta-llama/Llama-3.1-8B-Instruct", running.Label("model_name"));
        Assert.Equal("0", running.Label("engine"));
        Assert.Equal(1.048576e6, Assert.Single(result.Samples, s => s.Name == "process_max_fds").Value);
        var inf = Assert.Single(result.Samples, s => s.Name == "vllm:time_to_first_token_seconds_bucket" && s.Label("le") == "+Inf");
        Assert.Equal(59.0, inf.Value);
        Assert.Equal(3, result.Samples.Count(s => s.Name == "vllm:request_success_total"));
        Assert.DoesNotContain(result.Samples, s => s.Name.StartsWith('#'));
    }

    [Fact]
    public void EscapedLabelValues_AreUnescaped()
    {
        var result = PrometheusTextParser.Parse("m{path=\"C:\\\\models\\\\x\",quote=\"say \\\"hi\\\"\",nl=\"a\\nb\",brace=\"}{,\"} 1\n");

        var sample = Assert.Single(result.Samples);
        Assert.Equal(@"C:\models\x", sample.Label("path"));
        Assert.Equal("say \"hi\"", sample.Label("quote"));
        Assert.Equal("a\nb", sample.Label("nl"));
        Assert.Equal("}{,", sample.Label("brace"));
    }

    [Theory]
    [InlineData("m NaN", double.NaN)]
    [InlineData("m +Inf", double.PositiveInfinity)]
    [InlineData("m -Inf", double.NegativeInfinity)]
    [InlineData("m -1.5e-3", -0.0015)]
    [InlineData("m{} 7", 7.0)]
    [InlineData("m{a=\"b\",} 2", 2.0)]
    public void SpecialValues_AreRead(string line, double expected)
    {
        var sample = Assert.Single(PrometheusTextParser.Parse(line).Samples);
        Assert.Equal(expected, sample.Value);
    }

    [Fact]
    public void Timestamps_AreKeptAndCrLfAccepted()
    {
        var result = PrometheusTextParser.Parse("# TYPE a gauge\r\na{x=\"1\"} 4 1764086402183\r\nb 5 1764086402.5\r\n\r\n");

        Assert.Equal([1764086402183L, 1764086402500L], result.Samples.Select(s => s.TimestampMs!.Value));
        Assert.Equal([4.0, 5.0], result.Samples.Select(s => s.Value));
    }

    [Fact]
    public void MalformedLines_AreSkippedAndCounted()
    {
        var result = PrometheusTextParser.Parse("good 1\n{no_name=\"x\"} 2\nunterminated{a=\"b 3\nnovalue\nbad_value{a=\"b\"} twelve\nalso_good{a=\"b\"} 4\n");

        Assert.Equal(["good", "also_good"], result.Samples.Select(s => s.Name));
        Assert.Equal(4, result.MalformedLines);
    }
}
