using PdApp.Bench.Measurement;

namespace PdApp.Bench.Targets;

/// <summary>The outcome of one HTTP exchange, plus a field of the response when asked for (PD prefill: <c>kv_transfer_params</c>).</summary>
/// <param name="Outcome">The measurements.</param>
/// <param name="CapturedField">Raw JSON of the asked-for top-level field of the response, or empty.</param>
internal readonly record struct ExchangeResult(RequestOutcome Outcome, ReadOnlyMemory<byte> CapturedField);
