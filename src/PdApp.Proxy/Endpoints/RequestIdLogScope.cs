using System.Collections;

namespace PdApp.Proxy.Endpoints;

/// <summary>
/// The logging scope of one request: the single property <c>RequestId</c>, as a read-only list (the
/// shape logging providers read scope properties from) without a dictionary per request.
/// </summary>
/// <param name="requestId">The request id.</param>
internal sealed class RequestIdLogScope(string requestId) : IReadOnlyList<KeyValuePair<string, object>>
{
    /// <summary>The property name.</summary>
    public const string PropertyName = "RequestId";

    public int Count => 1;

    public KeyValuePair<string, object> this[int index] =>
        index == 0 ? new(PropertyName, requestId) : throw new ArgumentOutOfRangeException(nameof(index));

    public IEnumerator<KeyValuePair<string, object>> GetEnumerator()
    {
        yield return this[0];
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString() => $"{PropertyName}:{requestId}";
}
