namespace PdApp.Bench.Measurement;

/// <summary>The categories failed requests are counted under in reports.</summary>
internal static class ErrorKinds
{
    /// <summary>The request did not finish within <c>--timeout</c>.</summary>
    public const string Timeout = "timeout";

    /// <summary>The connection failed or broke (refused, reset, closed early).</summary>
    public const string Connection = "connection";

    /// <summary>The stream carried an in-band <c>data: {"error": ...}</c> event.</summary>
    public const string SseError = "sse_error";

    /// <summary>The stream ended without <c>data: [DONE]</c>.</summary>
    public const string IncompleteStream = "incomplete_stream";

    /// <summary>The body was not the JSON or SSE an OpenAI-compatible server sends.</summary>
    public const string InvalidResponse = "invalid_response";

    /// <summary>The server answered with a non-success HTTP status, e.g. <c>http_503</c>.</summary>
    public static string Http(int statusCode) => $"http_{statusCode}";

    /// <summary>
    /// Whether <paramref name="kind"/> says the server is not ready yet rather than that the request
    /// is wrong: the connection failed, or a gateway or the server answered 502, 503 or 504.
    /// </summary>
    public static bool IsNotReady(string? kind)
    {
        if (kind is null)
        {
            return false;
        }

        var own = kind.StartsWith("prefill_", StringComparison.Ordinal) ? kind["prefill_".Length..] : kind;
        return own is Connection || own == Http(502) || own == Http(503) || own == Http(504);
    }

    /// <summary>The error happened on the prefill call of <c>--pd-direct</c>.</summary>
    public static string Prefill(string kind) => $"prefill_{kind}";
}
