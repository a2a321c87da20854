namespace PdApp.Simulator.Faults;

/// <summary>An error response chosen by the failure injector.</summary>
/// <param name="StatusCode">HTTP status.</param>
/// <param name="Type">OpenAI error type.</param>
/// <param name="Message">Message.</param>
/// <param name="Param">Field at fault, if any.</param>
internal sealed record InjectedFailure(int StatusCode, string Type, string Message, string? Param);
