using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using PdApp.Protocol;

namespace PdApp.Tests.Simulator;

public sealed class SimulatorErrorTests : IAsyncLifetime
{
    private RunningSimulator _sim = null!;

    public async Task InitializeAsync() =>
        _sim = await RunningSimulator.StartAsync(["--max-model-len", "64", "--time-to-first-token", "1", "--inter-token-latency", "1"]);

    public async Task DisposeAsync() => await _sim.DisposeAsync();

    [Fact]
    public async Task UnknownModel_Returns404NotFound()
    {
        var body = SimulatorHttp.Completion("Hi");
        body["model"] = "gpt-unknown";

        var (response, json) = await _sim.Client.PostJsonAsync("/v1/completions", body);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("The model `gpt-unknown` does not exist.", (string?)json["error"]!["message"]);
        Assert.Equal(404, (int)json["error"]!["code"]!);
    }

    [Fact]
    public async Task ModelPath_IsAcceptedLikeTheServedName()
    {
        var body = SimulatorHttp.Completion("Hi");
        body["model"] = "/data/dp7b/";

        var (response, _) = await _sim.Client.PostJsonAsync("/v1/completions", body);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task PromptLongerThanMaxModelLen_Returns400WithVllmMessage()
    {
        var (response, json) = await _sim.Client.PostJsonAsync("/v1/completions", SimulatorHttp.Completion(string.Join(' ', Enumerable.Repeat("word", 100))));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.StartsWith("This model's maximum context length is 64 tokens. However, your request has 100 input tokens.", (string?)json["error"]!["message"]);
    }

    [Fact]
    public async Task PromptPlusMaxTokensTooLong_Returns400NamingMaxTokens()
    {
        var (response, json) = await _sim.Client.PostJsonAsync("/v1/completions", SimulatorHttp.Completion("Hello world", maxTokens: 63));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("'max_tokens' or 'max_completion_tokens' is too large: 63. This model's maximum context length is 64 tokens and your request has 2 input tokens (63 > 64 - 2).", (string?)json["error"]!["message"]);
        Assert.Equal("max_tokens", (string?)json["error"]!["param"]);
    }

    [Fact]
    public async Task MaxTokensIntMax_Returns400InsteadOfOverflowing()
    {
        var (response, json) = await _sim.Client.PostJsonAsync("/v1/completions", SimulatorHttp.Completion("Hello world", maxTokens: int.MaxValue));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("max_tokens", (string?)json["error"]!["param"]);
    }

    [Theory]
    [InlineData("n", 2)]
    [InlineData("max_tokens", 0)]
    [InlineData("temperature", -1)]
    [InlineData("max_tokens", "many")]
    public async Task InvalidParameter_Returns400NamingIt(string field, object value)
    {
        var body = SimulatorHttp.Completion("Hi");
        body[field] = JsonValue.Create(value);

        var (response, json) = await _sim.Client.PostJsonAsync("/v1/completions", body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(field, (string?)json["error"]!["param"]);
        Assert.Equal(OpenAiErrorTypes.InvalidRequest, (string?)json["error"]!["type"]);
    }

    [Fact]
    public async Task EmptyPrompt_Returns400()
    {
        var (response, json) = await _sim.Client.PostJsonAsync("/v1/completions", SimulatorHttp.Completion(string.Empty));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("prompt", (string?)json["error"]!["param"]);
    }

    [Fact]
    public async Task MalformedJson_Returns400()
    {
        using var response = await _sim.Client.SendAsync(SimulatorHttp.Post("/v1/chat/completions", "{\"model\": \"dp7b\", \"messages\": ["));
        var json = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(400, (int)json["error"]!["code"]!);
    }

    [Fact]
    public async Task StreamOptionsWithoutStream_Returns400()
    {
        var body = SimulatorHttp.Chat("Hi");
        body["stream_options"] = new JsonObject { ["include_usage"] = true };

        var (response, json) = await _sim.Client.PostJsonAsync("/v1/chat/completions", body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("stream_options", (string?)json["error"]!["param"]);
    }

    [Fact]
    public async Task ChatWithoutMessages_Returns400()
    {
        var (response, json) = await _sim.Client.PostJsonAsync("/v1/chat/completions", new JsonObject { ["model"] = "dp7b" });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("messages", (string?)json["error"]!["param"]);
    }

    [Fact]
    public async Task ApiKey_WrongOrMissingIs401_RightIs200_HealthAndMetricsStayOpen()
    {
        await using var secured = await RunningSimulator.StartAsync(["--api-key", "s3cret", "--time-to-first-token", "1"]);

        using var missing = await secured.Client.SendAsync(SimulatorHttp.Post("/v1/completions", SimulatorHttp.Completion("Hi")));
        var wrongRequest = SimulatorHttp.Post("/v1/completions", SimulatorHttp.Completion("Hi"));
        wrongRequest.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "nope");
        using var wrong = await secured.Client.SendAsync(wrongRequest);
        var rightRequest = SimulatorHttp.Post("/v1/completions", SimulatorHttp.Completion("Hi"));
        rightRequest.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "s3cret");
        using var right = await secured.Client.SendAsync(rightRequest);
        using var models = await secured.Client.GetAsync("/v1/models");
        using var health = await secured.Client.GetAsync("/health");
        using var metrics = await secured.Client.GetAsync("/metrics");

        Assert.Equal(HttpStatusCode.Unauthorized, missing.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, models.StatusCode);
        Assert.Equal(HttpStatusCode.OK, right.StatusCode);
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
    }
}
