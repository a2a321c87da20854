namespace PdApp.Proxy.Routing;

/// <summary>
/// What one call asks of the instance it was sent to, as the balancing policy estimated it when it
/// chose the instance: charged to the instance by the call's <see cref="InstanceLease"/> and released
/// when the lease ends (the prefill answered, the decode stream ended, the call failed or was
/// cancelled), as Dynamo's KV router tracks each worker's active prefill tokens and blocks.
/// </summary>
/// <param name="PrefillTokens">Prompt tokens the engine must compute (not in its prefix cache).</param>
/// <param name="Blocks">KV blocks the sequence holds while it runs.</param>
/// <remarks>A call without an estimate (null) counts only in the outstanding count.</remarks>
internal readonly record struct InstanceWork(int PrefillTokens, int Blocks);
