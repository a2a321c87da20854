namespace PdApp.Proxy.Observability.Tracing;

/// <summary>
/// Span attribute names: OpenTelemetry's GenAI semantic conventions where they fit
/// (https://opentelemetry.io/docs/specs/semconv/gen-ai/gen-ai-spans/), <c>pdapp.*</c> for what only
/// a PD proxy knows.
/// </summary>
public static class PdSpanAttributes
{
    /// <summary><c>gen_ai.operation.name</c>: <c>text_completion</c> or <c>chat</c>.</summary>
    public const string GenAiOperationName = "gen_ai.operation.name";

    /// <summary><c>gen_ai.system</c> (older conventions): always <c>vllm</c>.</summary>
    public const string GenAiSystem = "gen_ai.system";

    /// <summary><c>gen_ai.provider.name</c> (current conventions): always <c>vllm</c>.</summary>
    public const string GenAiProviderName = "gen_ai.provider.name";

    /// <summary><c>gen_ai.request.model</c>: the model the client named.</summary>
    public const string GenAiRequestModel = "gen_ai.request.model";

    /// <summary><c>gen_ai.request.max_tokens</c>: 1 on prefill requests.</summary>
    public const string GenAiRequestMaxTokens = "gen_ai.request.max_tokens";

    /// <summary><c>gen_ai.usage.input_tokens</c>: prompt tokens as P counted them (<c>usage.prompt_tokens</c>).</summary>
    public const string GenAiUsageInputTokens = "gen_ai.usage.input_tokens";

    /// <summary><c>gen_ai.usage.output_tokens</c>: the stream's final <c>usage.completion_tokens</c> when present, else the content chunks relayed from D (vLLM sends one token per chunk by default).</summary>
    public const string GenAiUsageOutputTokens = "gen_ai.usage.output_tokens";

    /// <summary><c>server.address</c> of the instance called.</summary>
    public const string ServerAddress = "server.address";

    /// <summary><c>server.port</c> of the instance called.</summary>
    public const string ServerPort = "server.port";

    /// <summary><c>http.response.status_code</c> of the instance's answer.</summary>
    public const string HttpResponseStatusCode = "http.response.status_code";

    /// <summary><c>error.type</c> when a step failed.</summary>
    public const string ErrorType = "error.type";

    /// <summary><c>pdapp.request_id</c>: the client-facing <c>X-Request-Id</c>.</summary>
    public const string RequestId = "pdapp.request_id";

    /// <summary><c>pdapp.upstream_request_id</c>: the <c>X-Request-Id</c> the instance saw (connectors encode addresses in it).</summary>
    public const string UpstreamRequestId = "pdapp.upstream_request_id";

    /// <summary><c>pdapp.instance</c>: the instance name, e.g. <c>prefill-0</c>.</summary>
    public const string Instance = "pdapp.instance";

    /// <summary><c>pdapp.role</c>: <c>prefill</c> or <c>decode</c>.</summary>
    public const string Role = "pdapp.role";

    /// <summary><c>pdapp.connector</c>: the KV connector (<c>Pd:Connector</c>).</summary>
    public const string Connector = "pdapp.connector";

    /// <summary><c>pdapp.mode</c>: <c>pd</c>, <c>prefill-skipped</c>, <c>decode-only</c> or <c>none</c>.</summary>
    public const string Mode = "pdapp.mode";

    /// <summary><c>pdapp.outcome</c>: how the step or request ended.</summary>
    public const string Outcome = "pdapp.outcome";

    /// <summary><c>pdapp.prefill.instance</c> on the request span.</summary>
    public const string PrefillInstance = "pdapp.prefill.instance";

    /// <summary><c>pdapp.decode.instance</c> on the request span.</summary>
    public const string DecodeInstance = "pdapp.decode.instance";

    /// <summary><c>pdapp.kv_transfer</c>: D's report on the KV (hit, miss) or the Nixl evidence.</summary>
    public const string KvTransfer = "pdapp.kv_transfer";

    /// <summary><c>pdapp.stream</c>: whether the client asked for a stream.</summary>
    public const string Stream = "pdapp.stream";

    /// <summary><c>pdapp.prompt_tokens.estimated</c>: the proxy's own estimate, before any instance counted.</summary>
    public const string EstimatedPromptTokens = "pdapp.prompt_tokens.estimated";

    /// <summary><c>pdapp.time_to_first_token</c> (seconds) on the request span.</summary>
    public const string TimeToFirstToken = "pdapp.time_to_first_token";

    /// <summary>Migration span event: the outcome (migrated, refused, failed).</summary>
    public const string MigrationOutcome = "pdapp.migration.outcome";

    /// <summary>Migration span event: why the decode failed, or why the request could not move.</summary>
    public const string MigrationReason = "pdapp.migration.reason";

    /// <summary>Migration span event: the tokens relayed to the client before the failure.</summary>
    public const string MigrationTokensRelayed = "pdapp.migration.tokens_relayed";
}
