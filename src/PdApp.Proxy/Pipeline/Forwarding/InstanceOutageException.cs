namespace PdApp.Proxy.Pipeline.Forwarding;

/// <summary>
/// A decode call stopped waiting for D's headers because health checking took D out of service
/// (<see cref="Routing.UpstreamInstance.OutageToken"/>); the relay treats it like a refused
/// connection: moved to another D where the KV is still reachable, else a 502.
/// </summary>
internal sealed class InstanceOutageException() : IOException("The instance was taken out of service before it answered.");
