using Microsoft.AspNetCore.Http;
using PdApp.Protocol;
using PdApp.Simulator.Configuration;
using PdApp.Simulator.Generation;

namespace PdApp.Simulator.Faults;

/// <summary>
/// Fails <c>--failure-injection-rate</c> percent of completion requests with one of
/// <c>--failure-types</c>, shaped as the OpenAI/vLLM error each type stands for (after
/// llm-d-inference-sim's failure injection). Draws from a generator seeded by <c>--seed</c>.
/// </summary>
internal sealed class FailureInjector(SimulatorOptions options)
{
    private readonly object _gate = new();
    private readonly IReadOnlyList<string> _types = options.Faults.FailureTypes.Count > 0 ? options.Faults.FailureTypes : FaultOptions.KnownFailureTypes;
    private DeterministicRandom _random = new((ulong)options.Seed ^ 0x5DEECE66DUL);

    /// <summary>Decides whether this request fails, and how.</summary>
    public InjectedFailure? Next(string? requestedModel)
    {
        var rate = options.Faults.FailureInjectionRate;
        if (rate <= 0)
        {
            return null;
        }

        string type;
        lock (_gate)
        {
            if (_random.NextDouble() * 100 >= rate)
            {
                return null;
            }

            type = _types[_random.Next(_types.Count)];
        }

        var model = requestedModel ?? options.PrimaryModelName;
        return type switch
        {
            "rate_limit" => new(StatusCodes.Status429TooManyRequests, OpenAiErrorTypes.RateLimit, $"Rate limit reached for {model}.", null),
            "invalid_api_key" => new(StatusCodes.Status401Unauthorized, OpenAiErrorTypes.Authentication, "Incorrect API key provided.", null),
            "context_length" => new(
                StatusCodes.Status400BadRequest,
                OpenAiErrorTypes.InvalidRequest,
                $"This model's maximum context length is {options.MaxModelLen} tokens. However, your request has {options.MaxModelLen + 1} input tokens. Please reduce the length of the input messages.",
                "messages"),
            "invalid_request" => new(StatusCodes.Status400BadRequest, OpenAiErrorTypes.InvalidRequest, "Invalid request (injected failure).", null),
            "model_not_found" => new(StatusCodes.Status404NotFound, OpenAiErrorTypes.NotFound, $"The model `{model}-nonexistent` does not exist.", "model"),
            _ => new(StatusCodes.Status500InternalServerError, OpenAiErrorTypes.Server, "Internal server error (injected failure).", null),
        };
    }
}
