namespace PdApp.Simulator.Engine;

/// <summary>A mid-stream fault chosen by the fault options.</summary>
internal sealed class InjectedStreamFaultException(bool dropConnection, int afterTokens)
    : Exception(dropConnection
        ? $"Simulated crash: connection dropped after {afterTokens} tokens."
        : $"Simulated engine failure after {afterTokens} tokens.")
{
    /// <summary>True: abort the connection; false: end the stream with an in-band error.</summary>
    public bool DropConnection { get; } = dropConnection;
}
