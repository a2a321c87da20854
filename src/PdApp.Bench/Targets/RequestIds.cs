namespace PdApp.Bench.Targets;

/// <summary>Request ids the bench sends as <c>X-Request-Id</c>, so server logs can be matched to a run.</summary>
internal static class RequestIds
{
    /// <summary>A new id, <c>bench-</c> and 32 hex digits.</summary>
    public static string Next() => "bench-" + Guid.NewGuid().ToString("N");
}
