using Microsoft.Extensions.Logging;
using PdApp.Tests.Observability.Infrastructure;

namespace PdApp.Tests.Simulator;

/// <summary>Gives every category one <see cref="CapturingLogger"/>, so a test reads all lines an app logged.</summary>
internal sealed class CapturingLoggerProvider : ILoggerProvider
{
    /// <summary>Every line logged through this provider.</summary>
    public CapturingLogger Logger { get; } = new();

    /// <inheritdoc />
    public ILogger CreateLogger(string categoryName) => Logger;

    /// <inheritdoc />
    public void Dispose()
    {
    }
}
