using Microsoft.Extensions.Options;
using PdApp.Proxy.Pipeline.Options;

namespace PdApp.Proxy.Pipeline.Forwarding;

/// <summary>
/// The moment in-flight decode relays must end during shutdown: shortly before the host's
/// <c>ShutdownTimeout</c> (<c>Pd:Proxy:ShutdownTimeoutSeconds</c>) runs out and Kestrel resets
/// every connection left. Relays follow <see cref="Token"/> and end their streams in-band
/// (<c>data: {"error"...}</c>, <c>data: [DONE]</c>), so a client learns why its stream stopped.
/// </summary>
public sealed class ShutdownDeadline : IDisposable
{
    /// <summary>What a client whose stream was ended at the deadline reads.</summary>
    public const string Message = "The proxy is shutting down and ended the stream before it finished (Pd:Proxy:ShutdownTimeoutSeconds).";

    // Time left to write the trailers and close before the host's own deadline.
    private static readonly TimeSpan Margin = TimeSpan.FromSeconds(1);

    private readonly CancellationTokenSource _deadline = new();
    private readonly CancellationTokenRegistration _stopping;

    /// <summary>Starts the clock when the host begins to stop.</summary>
    /// <param name="lifetime">The host lifetime.</param>
    /// <param name="options">The proxy options.</param>
    public ShutdownDeadline(IHostApplicationLifetime lifetime, IOptions<ProxyOptions> options)
    {
        ArgumentNullException.ThrowIfNull(lifetime);
        ArgumentNullException.ThrowIfNull(options);
        var timeout = TimeSpan.FromSeconds(options.Value.ShutdownTimeoutSeconds);
        var after = timeout > Margin * 2 ? timeout - Margin : timeout / 2;
        _stopping = lifetime.ApplicationStopping.Register(() => _deadline.CancelAfter(after));
    }

    /// <summary>Cancelled at the deadline.</summary>
    public CancellationToken Token => _deadline.Token;

    /// <inheritdoc />
    public void Dispose()
    {
        _stopping.Dispose();
        _deadline.Dispose();
    }
}
