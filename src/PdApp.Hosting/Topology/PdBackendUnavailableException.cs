namespace PdApp.Hosting.Topology;

/// <summary>
/// <c>Pd:Backend</c> asks for vLLM containers in run mode, but this machine has no container runtime with
/// NVIDIA GPUs. The message says what was found and which setting to change.
/// </summary>
public sealed class PdBackendUnavailableException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What was found and what to do.</param>
    public PdBackendUnavailableException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public PdBackendUnavailableException()
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What was found and what to do.</param>
    /// <param name="innerException">The cause.</param>
    public PdBackendUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
