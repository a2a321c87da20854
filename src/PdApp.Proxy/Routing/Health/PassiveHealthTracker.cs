using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PdApp.Proxy.Routing.Options;

namespace PdApp.Proxy.Routing.Health;

/// <summary>
/// Passive health checking (outlier ejection, as Envoy and YARP do it) from the outcomes of real
/// calls: <c>ConsecutiveFailures</c> failures in a row eject the instance for
/// <c>BaseEjectionSeconds</c>, doubling with each further ejection up to <c>MaxEjectionSeconds</c>;
/// any success resets both the failure count and the back-off, and so does <c>BackoffResetSeconds</c>
/// in service after an ejection ended. Failures reported while the
/// instance is ejected (calls that started before) do not extend the ejection.
/// </summary>
public sealed partial class PassiveHealthTracker : IInstanceOutcomeSink
{
    private readonly ConditionalWeakTable<UpstreamInstance, State> _states = [];
    private readonly EjectionOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<PassiveHealthTracker> _logger;
    private readonly IRoutingObserver? _observer;

    /// <summary>Creates the tracker.</summary>
    /// <param name="options">Thresholds and back-off.</param>
    /// <param name="time">The clock ejections are timed by.</param>
    /// <param name="logger">Logs ejections and recoveries.</param>
    /// <param name="observer">Told of ejections, when given.</param>
    public PassiveHealthTracker(IOptions<EjectionOptions> options, TimeProvider time, ILogger<PassiveHealthTracker> logger, IRoutingObserver? observer = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(logger);
        _options = options.Value;
        _time = time;
        _logger = logger;
        _observer = observer;
    }

    /// <inheritdoc />
    public void OnSuccess(UpstreamInstance instance)
    {
        ArgumentNullException.ThrowIfNull(instance);
        instance.IsVerified = true;
        if (!_states.TryGetValue(instance, out var state))
        {
            return;
        }

        // The common case (no failures pending) stays lock-free.
        if (Volatile.Read(ref state.ConsecutiveFailures) == 0 && Volatile.Read(ref state.Ejections) == 0)
        {
            return;
        }

        lock (state)
        {
            if (state.Ejections > 0)
            {
                LogRecovered(instance.Name, state.Ejections);
            }

            state.ConsecutiveFailures = 0;
            state.Ejections = 0;
        }
    }

    /// <inheritdoc />
    /// <remarks>
    /// The count and the ejection are decided under the instance's lock; what an ejection sets off
    /// (failing the calls that follow the instance's outage token, the observer, the log line) runs
    /// after it is released. A dying instance fails all its calls in the same instant (a decode's
    /// streams, each reporting here before it migrates): work done under the lock would hold every
    /// other failure of that instance, and with it every other stream's move, behind one thread
    /// (RESULTS.md 5.7).
    /// </remarks>
    public void OnFailure(UpstreamInstance instance)
    {
        ArgumentNullException.ThrowIfNull(instance);
        var state = _states.GetValue(instance, static _ => new State());
        var now = _time.GetUtcNow();
        TimeSpan duration;
        int ejections;
        lock (state)
        {
            if (instance.EjectedUntil is { } until && until > now)
            {
                return;
            }

            if (++state.ConsecutiveFailures < _options.ConsecutiveFailures)
            {
                return;
            }

            state.ConsecutiveFailures = 0;
            if (state.Ejections > 0 && now - state.LastEjectionEnd >= TimeSpan.FromSeconds(_options.BackoffResetSeconds))
            {
                // In service long enough since the last ejection: this is a new incident, not the same one.
                state.Ejections = 0;
            }

            state.Ejections++;
            var seconds = Math.Min(
                _options.BaseEjectionSeconds * Math.Pow(2, Math.Min(state.Ejections - 1, 30)),
                _options.MaxEjectionSeconds);
            duration = TimeSpan.FromSeconds(seconds);
            instance.EjectedUntil = now + duration;
            state.LastEjectionEnd = now + duration;
            ejections = state.Ejections;
        }

        // Set once per ejection (the failures that follow see EjectedUntil and return above).
        instance.SignalOutage();
        _observer?.InstanceEjected(instance);
        LogEjected(instance.Name, _options.ConsecutiveFailures, duration.TotalSeconds, ejections);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Instance {Name} ejected for {Seconds} s after {Failures} consecutive failed calls (ejection {Ejections} in a row)")]
    private partial void LogEjected(string name, int failures, double seconds, int ejections);

    [LoggerMessage(Level = LogLevel.Information, Message = "Instance {Name} answered successfully again after {Ejections} ejection(s); back-off reset")]
    private partial void LogRecovered(string name, int ejections);

    private sealed class State
    {
        public int ConsecutiveFailures;
        public int Ejections;
        public DateTimeOffset LastEjectionEnd;
    }
}
