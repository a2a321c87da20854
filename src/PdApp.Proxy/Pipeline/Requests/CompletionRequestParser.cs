using System.Text.Json;
using System.Text.Unicode;
using PdApp.Protocol;

namespace PdApp.Proxy.Pipeline.Requests;

/// <summary>
/// Parses and validates a completion or chat body once, so malformed requests get a 400 naming
/// the field before a prefill instance spends a forward pass on them. The checks are the ones
/// whose failure on D would otherwise strand KV that P already computed (vLLM's own validation
/// still runs upstream and its 400s are passed through).
/// </summary>
public static class CompletionRequestParser
{
    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 128 };

    /// <summary>Parses <paramref name="body"/>.</summary>
    /// <param name="route">The route it arrived on.</param>
    /// <param name="body">The raw body.</param>
    /// <param name="servedModel">The only model accepted (Pd:Model), or null to let the instances judge.</param>
    /// <param name="request">The parsed request (the caller disposes it).</param>
    /// <param name="error">Why it was refused.</param>
    /// <param name="promptTextLength">
    /// The characters of the rendered prompt that <see cref="CompletionRequest.AffinityKey"/> covers
    /// (<see cref="Routing.Options.BalancingOptions.AffinityKeyLength"/>); the whole prompt by default.
    /// </param>
    /// <returns>True when valid.</returns>
    public static bool TryParse(
        OpenAiRoute route,
        ReadOnlyMemory<byte> body,
        string? servedModel,
        out CompletionRequest? request,
        out RequestValidationError? error,
        int promptTextLength = int.MaxValue)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(promptTextLength);
        request = null;

        // JSON must be UTF-8 (RFC 8259 section 8.1); the parser would only notice inside GetString.
        if (!Utf8.IsValid(body.Span))
        {
            error = RequestValidationError.Invalid("The request body is not valid UTF-8.");
            return false;
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body, DocumentOptions);
        }
        catch (JsonException ex)
        {
            error = RequestValidationError.Invalid($"The request body is not valid JSON: {ex.Message}");
            return false;
        }

        string? model;
        bool stream;
        PromptAnalysis prompt;
        try
        {
            error = Validate(route, document.RootElement, servedModel, promptTextLength, out model, out stream, out prompt);
        }
        catch (InvalidOperationException)
        {
            // An escaped lone surrogate ("\ud800") is valid JSON but no text: GetString refuses it.
            error = RequestValidationError.Invalid("The request body contains an invalid Unicode escape.");
            model = null;
            stream = false;
            prompt = default;
        }

        if (error is not null)
        {
            document.Dispose();
            return false;
        }

        request = new CompletionRequest(route, body, document, model, stream, prompt.AffinityKey, prompt.EstimatedTokens);
        return true;
    }

    private static RequestValidationError? Validate(
        OpenAiRoute route,
        JsonElement root,
        string? servedModel,
        int promptTextLength,
        out string? model,
        out bool stream,
        out PromptAnalysis prompt)
    {
        model = null;
        stream = false;
        prompt = default;
        if (root.ValueKind != JsonValueKind.Object)
        {
            return RequestValidationError.Invalid("The request body must be a JSON object.");
        }

        if (root.TryGetProperty("model", out var modelElement) && modelElement.ValueKind != JsonValueKind.Null)
        {
            if (modelElement.ValueKind != JsonValueKind.String)
            {
                return RequestValidationError.Invalid("'model' must be a string.", "model");
            }

            model = modelElement.GetString();
            if (servedModel is not null && !string.Equals(model, servedModel, StringComparison.Ordinal))
            {
                // vLLM answers an unknown model with 404 NotFoundError and this message.
                return new RequestValidationError(
                    StatusCodes.Status404NotFound, OpenAiErrorTypes.NotFound, $"The model `{model}` does not exist.", "model");
            }
        }

        if (root.TryGetProperty("stream", out var streamElement) && streamElement.ValueKind != JsonValueKind.Null)
        {
            if (streamElement.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
            {
                return RequestValidationError.Invalid("'stream' must be a boolean.", "stream");
            }

            stream = streamElement.GetBoolean();
        }

        if (!stream && root.TryGetProperty("stream_options", out var streamOptions) && streamOptions.ValueKind != JsonValueKind.Null)
        {
            // vLLM rejects this on D with 400, after P has already computed (and pinned) the KV.
            return RequestValidationError.Invalid("Stream options can only be defined when `stream=True`.", "stream_options");
        }

        foreach (var name in (ReadOnlySpan<string>)["max_tokens", "max_completion_tokens"])
        {
            if (root.TryGetProperty(name, out var tokens) && tokens.ValueKind != JsonValueKind.Null
                && (tokens.ValueKind != JsonValueKind.Number || !tokens.TryGetInt32(out var value) || value < 1))
            {
                return RequestValidationError.Invalid($"'{name}' must be an integer of at least 1.", name);
            }
        }

        return route == OpenAiRoute.Completions
            ? PromptAnalysis.TryCompletionPrompt(root, out prompt, promptTextLength)
            : PromptAnalysis.TryChatMessages(root, out prompt, promptTextLength);
    }
}
