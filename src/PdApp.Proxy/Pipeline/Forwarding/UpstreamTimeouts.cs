using System.Globalization;
using Microsoft.Extensions.Options;
using PdApp.Proxy.Pipeline.Options;

namespace PdApp.Proxy.Pipeline.Forwarding;

/// <summary>
/// The proxy's one timeout policy, the only reader of <c>Pd:Proxy:Timeouts</c>: how long to wait
/// for a connection, for P's response headers and its whole answer, for D's response headers, and
/// for each chunk of D's body; and the error text of each, naming the setting and its real value.
/// The channel takes the connect timeout from here, the prefill client its deadlines, and each
/// decode relay one <see cref="DecodeWatchdog"/> that enforces the decode deadlines with one timer.
/// </summary>
public sealed class UpstreamTimeouts
{
    private readonly TimeoutOptions _options;

    /// <summary>Creates the policy from validated options.</summary>
    /// <param name="options">The proxy options.</param>
    public UpstreamTimeouts(IOptions<ProxyOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value.Timeouts;
        Connect = TimeSpan.FromSeconds(_options.ConnectSeconds);
        PrefillTotal = TimeSpan.FromSeconds(_options.PrefillSeconds);
        PrefillFirstByte = _options.PrefillFirstByteSeconds > 0 ? TimeSpan.FromSeconds(_options.PrefillFirstByteSeconds) : PrefillTotal;
        DecodeIdle = TimeSpan.FromSeconds(_options.DecodeIdleSeconds);
        DecodeNonStreamingTotal = TimeSpan.FromSeconds(_options.DecodeNonStreamingSeconds);
    }

    /// <summary>TCP connect to an instance (<c>Pd:Proxy:Timeouts:ConnectSeconds</c>).</summary>
    public TimeSpan Connect { get; }

    /// <summary>The whole prefill call (<c>Pd:Proxy:Timeouts:PrefillSeconds</c>).</summary>
    public TimeSpan PrefillTotal { get; }

    /// <summary>The wait for P's response headers (<c>Pd:Proxy:Timeouts:PrefillFirstByteSeconds</c>, else the total).</summary>
    public TimeSpan PrefillFirstByte { get; }

    /// <summary>The longest silence from D while streaming, before its headers and between chunks (<c>Pd:Proxy:Timeouts:DecodeIdleSeconds</c>).</summary>
    public TimeSpan DecodeIdle { get; }

    /// <summary>The wait for a non-streaming D's response (<c>Pd:Proxy:Timeouts:DecodeNonStreamingSeconds</c>).</summary>
    public TimeSpan DecodeNonStreamingTotal { get; }

    /// <summary>The wait for D's response headers: the idle timeout when streaming, else the non-streaming total.</summary>
    /// <param name="stream">Whether the client asked for a stream.</param>
    /// <returns>The wait.</returns>
    public TimeSpan DecodeHeaderWait(bool stream) => stream ? DecodeIdle : DecodeNonStreamingTotal;

    /// <summary>Starts the timer of one decode relay (not armed until the request is sent).</summary>
    /// <param name="stream">Whether the client asked for a stream.</param>
    /// <returns>The watchdog; dispose it when the relay ends.</returns>
    public DecodeWatchdog StartDecode(bool stream) => new(DecodeHeaderWait(stream), DecodeIdle);

    /// <summary>The error text of a connect timeout.</summary>
    /// <param name="role">prefill or decode.</param>
    /// <returns>The text.</returns>
    public string ConnectTimedOut(string role) =>
        $"The {role} instance did not accept a connection within {Seconds(_options.ConnectSeconds)} s ({TimeoutOptions.ConnectKey}).";

    /// <summary>The error text of a prefill that sent no response headers in time.</summary>
    /// <returns>The text.</returns>
    public string PrefillFirstByteTimedOut() => _options.PrefillFirstByteSeconds > 0
        ? $"prefill sent no response within {Seconds(_options.PrefillFirstByteSeconds)} s ({TimeoutOptions.PrefillFirstByteKey})"
        : PrefillTotalTimedOut();

    /// <summary>The error text of a prefill that did not finish in time.</summary>
    /// <returns>The text.</returns>
    public string PrefillTotalTimedOut() =>
        $"prefill took longer than {Seconds(_options.PrefillSeconds)} s ({TimeoutOptions.PrefillKey})";

    /// <summary>The error text of a decode instance that sent no response headers in time.</summary>
    /// <param name="stream">Whether the client asked for a stream.</param>
    /// <returns>The text.</returns>
    public string DecodeHeadersTimedOut(bool stream) => stream
        ? $"The decode instance did not answer within {Seconds(_options.DecodeIdleSeconds)} s ({TimeoutOptions.DecodeIdleKey})."
        : $"The decode instance did not answer within {Seconds(_options.DecodeNonStreamingSeconds)} s ({TimeoutOptions.DecodeNonStreamingKey}).";

    /// <summary>The error text of a decode stream that went silent.</summary>
    /// <returns>The text.</returns>
    public string DecodeIdleTimedOut() =>
        $"The decode instance sent nothing for {Seconds(_options.DecodeIdleSeconds)} s ({TimeoutOptions.DecodeIdleKey}).";

    private static string Seconds(double value) => value.ToString("0.###", CultureInfo.InvariantCulture);
}
