namespace PdApp.Proxy.Pipeline.Options;

/// <summary>
/// Request migration, bound from <c>Pd:Proxy:Migration</c>: when a decode instance fails after the
/// stream started (connection lost, idle timeout, an in-band engine error) or before it answered,
/// the proxy continues the request on another decode instance with the text already relayed
/// appended to the prompt (NVIDIA Dynamo's <c>--migration-limit</c>).
/// </summary>
public sealed class MigrationOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = ProxyOptions.Section + ":Migration";

    /// <summary>The key of <see cref="MaxAttempts"/>.</summary>
    public const string MaxAttemptsKey = Section + ":" + nameof(MaxAttempts);

    /// <summary>
    /// <c>Pd:Proxy:Migration:MaxAttempts</c>: how many times one request may move to another decode
    /// instance (default 1; 0 turns migration off and a failed decode ends the stream in-band). One
    /// is enough for a crash or a rolling restart; more only help when several instances fail at once,
    /// and each move costs the client a stall of about one time to first token.
    /// </summary>
    public int MaxAttempts { get; set; } = 1;
}
