using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using PdApp.Bench.Measurement;
using PdApp.Protocol;

namespace PdApp.Bench.Targets;

/// <summary>
/// Performs one OpenAI-compatible HTTP call over a shared <see cref="HttpClient"/> and turns the
/// response into client-side measurements. Headers are read first
/// (<see cref="HttpCompletionOption.ResponseHeadersRead"/>) so streams are timed as they arrive.
/// </summary>
internal sealed class OpenAiExchange
{
    private const int MaxErrorBodyChars = 300;

    private readonly HttpClient _http;
    private readonly TimeProvider _time;

    /// <summary>Creates an exchange over <paramref name="http"/>.</summary>
    public OpenAiExchange(HttpClient http, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(time);
        _http = http;
        _time = time;
    }

    /// <summary>The clock of every timestamp.</summary>
    public TimeProvider Time => _time;

    /// <summary>Posts <paramref name="body"/> and measures the response against <paramref name="startTimestamp"/>.</summary>
    /// <param name="url">The endpoint.</param>
    /// <param name="body">The JSON body.</param>
    /// <param name="stream">Whether the body asked for a stream.</param>
    /// <param name="apiKey">Bearer key, or null.</param>
    /// <param name="requestId">Sent as <c>X-Request-Id</c>.</param>
    /// <param name="startTimestamp">When the user's request started (TTFT and E2E count from here).</param>
    /// <param name="promptTokens">The workload's prompt length, used when the server reports no usage.</param>
    /// <param name="observer">Receives inter-token gaps.</param>
    /// <param name="captureField">A top-level field of a JSON response to keep (PD prefill: <c>kv_transfer_params</c>), or null.</param>
    /// <param name="cancellationToken">Cancels the call (run abort or request timeout).</param>
    /// <exception cref="OperationCanceledException">Cancelled; the caller decides whether it was a timeout.</exception>
    public async Task<ExchangeResult> ExecuteAsync(
        Uri url,
        byte[] body,
        bool stream,
        string? apiKey,
        string requestId,
        long startTimestamp,
        int promptTokens,
        IInterTokenObserver? observer,
        string? captureField,
        CancellationToken cancellationToken)
    {
        using var message = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(body) };
        message.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        message.Headers.TryAddWithoutValidation(PdHeaders.RequestId, requestId);
        if (apiKey is not null)
        {
            message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        }

        try
        {
            using var response = await _http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                var detail = await ReadErrorDetailAsync(response, cancellationToken).ConfigureAwait(false);
                return Fail(ErrorKinds.Http((int)response.StatusCode), detail, startTimestamp, promptTokens);
            }

            await using var content = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            return stream
                ? new ExchangeResult(await ReadStreamAsync(content, startTimestamp, promptTokens, observer, cancellationToken).ConfigureAwait(false), default)
                : await ReadJsonAsync(content, startTimestamp, promptTokens, captureField, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            return Fail(ErrorKinds.Connection, e.Message, startTimestamp, promptTokens);
        }
        catch (IOException e)
        {
            return Fail(ErrorKinds.Connection, e.Message, startTimestamp, promptTokens);
        }
        catch (JsonException e)
        {
            return Fail(ErrorKinds.InvalidResponse, e.Message, startTimestamp, promptTokens);
        }
    }

    private async Task<RequestOutcome> ReadStreamAsync(
        Stream content,
        long startTimestamp,
        int promptTokens,
        IInterTokenObserver? observer,
        CancellationToken cancellationToken)
    {
        var timing = await StreamTimingReader.ReadAsync(content, observer, _time, cancellationToken).ConfigureAwait(false);
        var e2e = Elapsed(startTimestamp);
        if (timing.ErrorMessage is not null)
        {
            return RequestOutcome.Failed(ErrorKinds.SseError, timing.ErrorMessage, e2e, promptTokens);
        }

        if (!timing.SawDone)
        {
            return RequestOutcome.Failed(ErrorKinds.IncompleteStream, $"stream ended after {timing.OutputChunks} output chunks without [DONE]", e2e, promptTokens);
        }

        var ttft = timing.OutputChunks > 0 ? StreamTimingReader.ToMicroseconds(timing.FirstOutputTimestamp - startTimestamp, _time) : e2e;
        return new RequestOutcome(
            ErrorKind: null,
            ErrorMessage: null,
            TtftMicroseconds: ttft,
            E2eMicroseconds: e2e,
            PromptTokens: timing.PromptTokens ?? promptTokens,
            OutputTokens: timing.CompletionTokens ?? timing.OutputChunks,
            Streamed: true);
    }

    private async Task<ExchangeResult> ReadJsonAsync(
        Stream content,
        long startTimestamp,
        int promptTokens,
        string? captureField,
        CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        await content.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
        var e2e = Elapsed(startTimestamp);
        var json = buffer.GetBuffer().AsMemory(0, (int)buffer.Length);
        var info = ChunkInspector.Inspect(json.Span);
        if (info.IsError)
        {
            return Fail(ErrorKinds.InvalidResponse, info.ErrorMessage ?? "error object in a 2xx response", startTimestamp, promptTokens);
        }

        // Without streaming the first token arrives with the last, as vLLM's benchmark records it.
        var outcome = new RequestOutcome(null, null, e2e, e2e, info.PromptTokens ?? promptTokens, info.CompletionTokens ?? 0, Streamed: false);
        return new ExchangeResult(outcome, captureField is null ? default : ExtractField(json.Span, captureField));
    }

    private static ReadOnlyMemory<byte> ExtractField(ReadOnlySpan<byte> json, string field)
    {
        var reader = new Utf8JsonReader(json);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return default;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isField = reader.ValueTextEquals(field);
            reader.Read();
            var start = (int)reader.TokenStartIndex;
            reader.Skip();
            if (isField && reader.TokenType is JsonTokenType.EndObject)
            {
                var end = (int)reader.BytesConsumed;
                return json[start..end].ToArray();
            }
        }

        return default;
    }

    private static async Task<string> ReadErrorDetailAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        var detail = new StringBuilder().Append((int)response.StatusCode).Append(' ').Append(response.ReasonPhrase);
        if (!string.IsNullOrWhiteSpace(text))
        {
            detail.Append(": ").Append(text.Length > MaxErrorBodyChars ? text[..MaxErrorBodyChars] + "…" : text);
        }

        return detail.ToString();
    }

    private ExchangeResult Fail(string kind, string message, long startTimestamp, int promptTokens) =>
        new(RequestOutcome.Failed(kind, message, Elapsed(startTimestamp), promptTokens), default);

    private long Elapsed(long startTimestamp) => StreamTimingReader.ToMicroseconds(_time.GetTimestamp() - startTimestamp, _time);
}
