using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace PdApp.Tests.Bench;

/// <summary>How <see cref="FakeOpenAiServer"/> answers.</summary>
internal sealed record FakeServerBehavior
{
    public TimeSpan FirstTokenDelay { get; init; } = TimeSpan.FromMilliseconds(20);

    public TimeSpan TokenDelay { get; init; } = TimeSpan.FromMilliseconds(5);

    /// <summary>Answer every completion with this status and an OpenAI error body.</summary>
    public int? FailStatus { get; init; }

    /// <summary>Send an in-band error event after this many tokens.</summary>
    public int? InBandErrorAfter { get; init; }

    /// <summary>Close the stream after this many tokens without [DONE].</summary>
    public int? TruncateAfter { get; init; }

    /// <summary>Send a role-only chat chunk at once, before the first token delay.</summary>
    public bool EarlyRoleChunk { get; init; }

    /// <summary>
    /// Top-level kv_transfer_params of non-streamed responses to requests that asked for a remote
    /// decode (<c>kv_transfer_params.do_remote_decode</c>), as a NIXL prefill answers; raw JSON.
    /// </summary>
    public string? KvTransferParams { get; init; }

    public string Model { get; init; } = "fake-model";
}

/// <summary>
/// A real Kestrel server on 127.0.0.1 (dynamic port) speaking just enough of the OpenAI API for
/// the bench: /v1/models, and /v1/completions and /v1/chat/completions with SSE streaming,
/// include_usage and max_tokens. It records every request body it receives.
/// </summary>
internal sealed class FakeOpenAiServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private FakeOpenAiServer(WebApplication app, FakeServerBehavior behavior)
    {
        _app = app;
        Behavior = behavior;
    }

    public FakeServerBehavior Behavior { get; }

    public Uri BaseUrl { get; private set; } = null!;

    public ConcurrentQueue<JsonObject> Requests { get; } = new();

    public static async Task<FakeOpenAiServer> StartAsync(FakeServerBehavior? behavior = null)
    {
        behavior ??= new FakeServerBehavior();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(options => options.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var server = new FakeOpenAiServer(app, behavior);
        app.MapGet("/v1/models", () => Results.Json(new { @object = "list", data = new[] { new { id = behavior.Model, @object = "model" } } }));
        app.MapPost("/v1/completions", context => server.HandleAsync(context, chat: false));
        app.MapPost("/v1/chat/completions", context => server.HandleAsync(context, chat: true));
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server.BaseUrl = new Uri(address);
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task HandleAsync(HttpContext context, bool chat)
    {
        var body = (JsonObject)(await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted))!;
        Requests.Enqueue(body);
        if (Behavior.FailStatus is { } status)
        {
            context.Response.StatusCode = status;
            await context.Response.WriteAsJsonAsync(new { error = new { message = "fake failure", type = "ServiceUnavailable", code = status } }, context.RequestAborted);
            return;
        }

        var maxTokens = (int?)body["max_tokens"] ?? 16;
        var promptTokens = chat
            ? ((string?)body["messages"]?[0]?["content"] ?? string.Empty).Split(' ').Length
            : ((string?)body["prompt"] ?? string.Empty).Split(' ').Length;
        if ((bool?)body["stream"] != true)
        {
            await Task.Delay(Behavior.FirstTokenDelay + (Behavior.TokenDelay * (maxTokens - 1)), context.RequestAborted);
            var text = string.Concat(Enumerable.Repeat(" tok", maxTokens));
            var choice = chat
                ? $$$"""{"index":0,"message":{"role":"assistant","content":"{{{text}}}"}}"""
                : $$"""{"index":0,"text":"{{text}}"}""";
            var usage = $$$"""{"prompt_tokens":{{{promptTokens}}},"completion_tokens":{{{maxTokens}}}}""";
            var askedForRemoteDecode = body["kv_transfer_params"]?["do_remote_decode"]?.GetValue<bool>() == true;
            var kvTransfer = Behavior.KvTransferParams is { } kv && askedForRemoteDecode ? ",\"kv_transfer_params\":" + kv : string.Empty;
            var json = $$$"""{"object":"{{{(chat ? "chat.completion" : "text_completion")}}}","choices":[{{{choice}}}],"usage":{{{usage}}}{{{kvTransfer}}}}""";
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(json, context.RequestAborted);
            return;
        }

        context.Response.ContentType = "text/event-stream";
        if (chat && Behavior.EarlyRoleChunk)
        {
            await WriteEventAsync(context, """{"object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}""");
        }

        await Task.Delay(Behavior.FirstTokenDelay, context.RequestAborted);
        for (var i = 0; i < maxTokens; i++)
        {
            if (i > 0)
            {
                await Task.Delay(Behavior.TokenDelay, context.RequestAborted);
            }

            if (Behavior.TruncateAfter == i)
            {
                return;
            }

            if (Behavior.InBandErrorAfter == i)
            {
                await WriteEventAsync(context, """{"error":{"message":"engine died","type":"InternalServerError","code":500}}""");
                await WriteEventAsync(context, "[DONE]");
                return;
            }

            await WriteEventAsync(context, chat
                ? """{"object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":" tok"}}]}"""
                : """{"object":"text_completion","choices":[{"index":0,"text":" tok"}]}""");
        }

        if (body["stream_options"]?["include_usage"]?.GetValue<bool>() == true)
        {
            var usage = $$$"""{"prompt_tokens":{{{promptTokens}}},"completion_tokens":{{{maxTokens}}},"total_tokens":{{{promptTokens + maxTokens}}}}""";
            await WriteEventAsync(context, $$$"""{"choices":[],"usage":{{{usage}}}}""");
        }

        await WriteEventAsync(context, "[DONE]");
    }

    private static async Task WriteEventAsync(HttpContext context, string data)
    {
        await context.Response.WriteAsync("data: " + data + "\n\n", Encoding.UTF8, context.RequestAborted);
        await context.Response.Body.FlushAsync(context.RequestAborted);
    }
}
