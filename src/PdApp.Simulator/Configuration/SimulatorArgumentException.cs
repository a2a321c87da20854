namespace PdApp.Simulator.Configuration;

/// <summary>A command-line flag had an invalid value; the message names the flag, as vLLM's argparse does.</summary>
public sealed class SimulatorArgumentException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="flag">The flag at fault, e.g. <c>--port</c>.</param>
    /// <param name="message">What is wrong with its value.</param>
    /// <param name="innerException">The parse failure, if any.</param>
    public SimulatorArgumentException(string flag, string message, Exception? innerException = null)
        : base($"argument {flag}: {message}", innerException)
    {
        Flag = flag;
    }

    /// <summary>The flag at fault.</summary>
    public string Flag { get; }
}
