using System.Net;
using System.Text.Json.Nodes;
using PdApp.Protocol;

namespace PdApp.Tests.Simulator;

/// <summary>The proxy's side of the PD protocol, done by hand: prefill step, then decode step.</summary>
internal static class PdTestFlow
{
    /// <summary>A prompt long enough for whole KV blocks (SharedStorage transfers full blocks only).</summary>
    public static string LongPrompt(string topic) =>
        $"Please write a detailed essay about {topic}, covering its history, its present state, the open questions and what comes next for it in the years ahead.";

    /// <summary>The prefill body: the client's body with max_tokens = 1 (vLLM's toy proxies).</summary>
    public static JsonObject PrefillBody(JsonObject clientBody, JsonObject? kvTransferParams = null)
    {
        var body = clientBody.DeepClone().AsObject();
        body["max_tokens"] = 1;
        if (body.ContainsKey("max_completion_tokens"))
        {
            body["max_completion_tokens"] = 1;
        }

        if (kvTransferParams is not null)
        {
            body["stream"] = false;
            body.Remove("stream_options");
            body["kv_transfer_params"] = kvTransferParams;
        }

        return body;
    }

    /// <summary>The NIXL prefill params (vLLM's toy_proxy_server.py).</summary>
    public static JsonObject NixlPrefillParams() => new()
    {
        ["do_remote_decode"] = true,
        ["do_remote_prefill"] = false,
        ["remote_engine_id"] = null,
        ["remote_block_ids"] = null,
        ["remote_host"] = null,
        ["remote_port"] = null,
    };

    public static async Task<(HttpResponseMessage Response, JsonObject Body)> PrefillAsync(RunningSimulator prefill, JsonObject clientBody, string? requestId = null, JsonObject? kvTransferParams = null)
    {
        var (response, body) = await prefill.Client.PostJsonAsync("/v1/completions", PrefillBody(clientBody, kvTransferParams), requestId);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (response, body);
    }

    public static async Task<(HttpResponseMessage Response, JsonObject Body)> DecodeAsync(RunningSimulator decode, JsonObject clientBody, string? requestId = null, JsonObject? kvTransferParams = null)
    {
        var body = clientBody.DeepClone().AsObject();
        if (kvTransferParams is not null)
        {
            body["kv_transfer_params"] = kvTransferParams.DeepClone();
        }

        var (response, json) = await decode.Client.PostJsonAsync("/v1/completions", body, requestId);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (response, json);
    }

    public static string KvOutcome(this HttpResponseMessage response) => response.Header(PdHeaders.SimulatorKvTransfer);

    public static string KvConfig(string connector, string role, string extra = "{}", string more = "") =>
        $$"""{"kv_connector":"{{connector}}","kv_role":"{{role}}","kv_connector_extra_config":{{extra}}{{more}}}""";

    public static string[] Fast(params string[] args) =>
        ["--time-to-first-token", "1", "--inter-token-latency", "1", "--kv-transfer-wait-timeout", "150", .. args];
}
