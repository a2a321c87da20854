using PdApp.Bench.Measurement;

namespace PdApp.Bench.Targets;

/// <summary>The outcome of one HTTP exchange, plus the prefill's <c>kv_transfer_params</c> when asked for.</summary>
/// <param name="Outcome">The measurements.</param>
/// <param name="KvTransferParams">Raw JSON of the response's top-level <c>kv_transfer_params</c>, or empty.</param>
internal readonly record struct ExchangeResult(RequestOutcome Outcome, ReadOnlyMemory<byte> KvTransferParams);
