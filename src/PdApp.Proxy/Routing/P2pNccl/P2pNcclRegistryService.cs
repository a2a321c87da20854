using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NetMQ;
using NetMQ.Sockets;
using PdApp.Protocol;
using PdApp.Proxy.Messaging;
using PdApp.Proxy.Routing.Options;

namespace PdApp.Proxy.Routing.P2pNccl;

/// <summary>
/// The P2pNccl service-discovery endpoint, as in vLLM's
/// <c>examples/online_serving/disaggregated_serving_p2p_nccl_xpyd/disagg_proxy_p2p_nccl_xpyd.py</c>:
/// a ZeroMQ ROUTER socket on <c>Pd:Registry:Port</c> receives <c>[identity, msgpack]</c> frames
/// from each instance's DEALER. Each registration adds (or refreshes) an instance named
/// <c>{role}-r{n}</c> (<see cref="InstanceNumbering"/>: no address, since names reach clients) with <see cref="InstanceSource.Registry"/>, base address
/// <c>http://{http_address}</c> and KV address <c>zmq_address</c>; an instance not heard from for
/// <c>ExpirySeconds</c> is removed (vLLM's example never forgets; instances ping every 3 s).
/// Malformed messages are logged and ignored. With active health checking on, a new instance
/// starts unhealthy and is admitted by its first passing <c>/health</c> probe, and gets the upstream key only
/// once verified (<c>UpstreamKeyPolicy</c>). Binding and the socket's thread are <see cref="ZmqListenerService{TSocket}"/>'s.
/// </summary>
internal sealed partial class P2pNcclRegistryService : ZmqListenerService<RouterSocket>
{
    private readonly InstanceRegistry _registry;
    private readonly P2pNcclRegistryOptions _options;
    private readonly bool _probeBeforeUse;
    private readonly TimeProvider _time;
    private readonly ILogger<P2pNcclRegistryService> _logger;
    private readonly IRoutingObserver? _observer;
    private readonly RegistrationAllowlist _allowlist;
    private readonly InstanceNumbering _names = new("r");
    private readonly HashSet<string> _rejectedLogged = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTimeOffset> _lastHeard = new(StringComparer.Ordinal);
    private readonly TimeSpan _expiry;
    private NetMQMessage? _message = new();

    public P2pNcclRegistryService(
        InstanceRegistry registry,
        IOptions<P2pNcclRegistryOptions> options,
        IOptions<ActiveHealthCheckOptions> health,
        TimeProvider time,
        ILogger<P2pNcclRegistryService> logger,
        IRoutingObserver? observer = null)
    {
        _registry = registry;
        _options = options.Value;
        _observer = observer;
        _allowlist = new RegistrationAllowlist(_options.AllowedNetworks);
        _probeBeforeUse = health.Value.Enabled;
        _expiry = TimeSpan.FromSeconds(_options.ExpirySeconds);
        _time = time;
        _logger = logger;
    }

    protected override bool Enabled => _options.Enabled;

    protected override string BindAddress => _options.BindAddress;

    protected override int Port => _options.EffectivePort;

    protected override RouterSocket CreateSocket()
    {
        var router = new RouterSocket();
        router.Options.Linger = TimeSpan.Zero;

        // Registrations are a few hundred bytes; anything far larger is not one.
        router.Options.MaxMsgSize = 64 * 1024;
        return router;
    }

    protected override void OnListening(int port)
    {
        LogListening(_options.BindAddress, port, _options.ExpirySeconds);
        if (_options.BindAddress is "*" or "0.0.0.0" or "[::]" && _allowlist.AllowsAll && string.IsNullOrEmpty(_options.SharedSecret))
        {
            LogUnprotected(_options.BindAddress, port);
        }

        if (!_probeBeforeUse)
        {
            LogUnverified();
        }
    }

    protected override void OnFailed(Exception exception) => LogFailed(exception, _options.BindAddress, _options.EffectivePort);

    protected override void Poll(RouterSocket socket)
    {
        if (socket.TryReceiveMultipartMessage(PollInterval, ref _message))
        {
            try
            {
                Handle(_message!);
            }
            catch (Exception ex)
            {
                // One bad message must not stop registration for every other instance.
                LogHandlingFailed(ex);
            }
        }

        Expire(_time.GetUtcNow() - _expiry);
    }

    protected override void OnStopped()
    {
        foreach (var name in _lastHeard.Keys)
        {
            _registry.Remove(name);
        }

        _lastHeard.Clear();
    }

    private void Handle(NetMQMessage message)
    {
        // ROUTER prepends the sender's identity (vLLM sets it to the zmq_address); the payload is the last frame.
        if (message.FrameCount != 2)
        {
            LogMalformed(message.FrameCount > 0 ? message[0].ConvertToString() : string.Empty, $"expected 2 frames (identity, payload), got {message.FrameCount}");
            return;
        }

        var identity = message[0].ConvertToString();
        if (!P2pNcclRegistration.TryParse(message[1].Buffer.AsMemory(0, message[1].MessageSize), out var registration, out var error))
        {
            LogMalformed(identity, error);
            return;
        }

        if (Refusal(registration!) is { } refusal)
        {
            Reject(identity, registration!, refusal);
            return;
        }

        // Names carry no address: they reach clients in error messages (the address stays in logs and the admin API).
        var name = _names.NameFor(registration!.Role, registration.HttpAddress);
        var now = _time.GetUtcNow();
        var known = _lastHeard.ContainsKey(name);
        _lastHeard[name] = now;
        var existing = _registry.Find(name);
        if (existing is { Source: InstanceSource.Registry } && existing.KvAddress == registration.ZmqAddress)
        {
            return;
        }

        if (existing is not null && existing.Source != InstanceSource.Registry)
        {
            if (!known)
            {
                LogNameTaken(name, existing.Source);
            }

            return;
        }

        if (!HostPort.TryCreateHttpUri(registration.HttpAddress, out var baseAddress))
        {
            LogMalformed(identity, $"\"http_address\" {registration.HttpAddress} is not a usable address");
            return;
        }

        // The same http address announcing the other role (an instance restarted as P instead of D) replaces the old entry.
        var otherRole = _names.NameFor(registration.Role == PdRole.Prefill ? PdRole.Decode : PdRole.Prefill, registration.HttpAddress);
        if (_lastHeard.Remove(otherRole))
        {
            _registry.Remove(otherRole);
        }

        // vLLM's engine starts pinging while the model still loads, before its HTTP port opens:
        // with active health checking on, the instance gets traffic only after its first passing probe.
        _registry.AddOrUpdate(new UpstreamInstance(name, registration.Role, baseAddress, InstanceSource.Registry, registration.ZmqAddress)
        {
            IsHealthy = !_probeBeforeUse,
        });
        LogRegistered(name, registration.HttpAddress, registration.ZmqAddress);
    }

    // A registration decides where real prompts (and, once verified, the engines' key) go.
    private string? Refusal(PdApp.Protocol.P2pNccl.P2pNcclRegistrationMessage registration)
    {
        if (!string.IsNullOrEmpty(_options.SharedSecret) && !registration.IsSignedWith(_options.SharedSecret))
        {
            return registration.Hmac is null ? "unsigned" : "bad_signature";
        }

        return _allowlist.Allows(registration.HttpAddress) && _allowlist.Allows(registration.ZmqAddress) ? null : "address_not_allowed";
    }

    private void Reject(string identity, PdApp.Protocol.P2pNccl.P2pNcclRegistrationMessage registration, string reason)
    {
        _observer?.RegistrationRejected(reason);

        // Instances ping every 3 s: log each refused sender once, count every refusal.
        if (_rejectedLogged.Count < 1024 && _rejectedLogged.Add($"{identity}|{registration.HttpAddress}|{reason}"))
        {
            LogRejected(identity, registration.Type, registration.HttpAddress, registration.ZmqAddress, reason);
        }
    }

    private void Expire(DateTimeOffset heardBefore)
    {
        List<string>? expired = null;
        foreach (var (name, heard) in _lastHeard)
        {
            if (heard < heardBefore)
            {
                (expired ??= []).Add(name);
            }
        }

        if (expired is null)
        {
            return;
        }

        foreach (var name in expired)
        {
            _lastHeard.Remove(name);
            if (_registry.Find(name) is { Source: InstanceSource.Registry })
            {
                _registry.Remove(name);
                LogExpired(name, _options.ExpirySeconds);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "P2pNccl registry listening on {BindAddress}:{Port}; instances expire after {ExpirySeconds} s of silence")]
    private partial void LogListening(string bindAddress, int port, double expirySeconds);

    [LoggerMessage(Level = LogLevel.Error, Message = "P2pNccl registry on {BindAddress}:{Port} failed")]
    private partial void LogFailed(Exception exception, string bindAddress, int port);

    [LoggerMessage(Level = LogLevel.Error, Message = "P2pNccl registry: handling a message failed; the message is ignored")]
    private partial void LogHandlingFailed(Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "P2pNccl registry: ignored a malformed message from {Identity}: {Error}")]
    private partial void LogMalformed(string identity, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "P2pNccl registry on {BindAddress}:{Port} accepts registrations from anyone who can reach it; set Pd:Registry:BindAddress, Pd:Registry:AllowedNetworks or Pd:Registry:SharedSecret")]
    private partial void LogUnprotected(string bindAddress, int port);

    [LoggerMessage(Level = LogLevel.Warning, Message = "P2pNccl registry: active health checking is off (Pd:Proxy:Health:Enabled), so registered instances get traffic without a /health check")]
    private partial void LogUnverified();

    [LoggerMessage(Level = LogLevel.Information, Message = "P2pNccl registry: {Name} registered (http {HttpAddress}, zmq {ZmqAddress})")]
    private partial void LogRegistered(string name, string httpAddress, string zmqAddress);

    [LoggerMessage(Level = LogLevel.Warning, Message = "P2pNccl registry: rejected a registration from {Identity} ({Type}, http {HttpAddress}, zmq {ZmqAddress}): {Reason}")]
    private partial void LogRejected(string identity, string type, string httpAddress, string zmqAddress, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "P2pNccl registry: instance {Name} was not heard from for {ExpirySeconds} s and is removed")]
    private partial void LogExpired(string name, double expirySeconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "P2pNccl registry: {Name} is already registered from {Source}; the registration is ignored")]
    private partial void LogNameTaken(string name, InstanceSource source);
}
