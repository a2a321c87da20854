using System.Net;
using System.Text;
using PdApp.Protocol;

namespace PdApp.Tests.Proxy.Pipeline;

/// <summary>One request the proxy sent upstream, as the instance received it.</summary>
/// <param name="Instance">The instance's host (its name, e.g. <c>prefill-0</c>).</param>
/// <param name="Path">The request path.</param>
/// <param name="RequestId">The <c>X-Request-Id</c> sent.</param>
/// <param name="Authorization">The <c>Authorization</c> header sent, if any.</param>
/// <param name="Body">The body.</param>
internal sealed record UpstreamCall(string Instance, string Path, string? RequestId, string? Authorization, string Body)
{
    /// <summary>Every request header sent (content headers included), by lower-case name.</summary>
    public IReadOnlyDictionary<string, string> Headers { get; init; } = new Dictionary<string, string>();

    /// <summary>Whether a prefill instance got it.</summary>
    public bool ToPrefill => Instance.StartsWith("prefill", StringComparison.Ordinal);
}

/// <summary>
/// Every instance at once, in memory: the mock <see cref="HttpMessageHandler"/> behind the proxy's
/// one <c>HttpMessageInvoker</c> (as YARP's own tests do), recording each call and answering with
/// <see cref="Respond"/>. No sockets.
/// </summary>
internal sealed class ScriptedUpstream : HttpMessageHandler
{
    private readonly List<UpstreamCall> _calls = [];

    /// <summary>Answers a call; the token is the proxy's (it fires on timeouts and disconnects).</summary>
    public Func<UpstreamCall, CancellationToken, Task<HttpResponseMessage>> Respond { get; set; } =
        (call, _) => Task.FromResult(call.ToPrefill ? Json("""{"id":"p","choices":[{"text":"x"}],"usage":{"prompt_tokens":5}}""") : Json("""{"id":"d"}"""));

    /// <summary>The calls so far, in order.</summary>
    public IReadOnlyList<UpstreamCall> Calls
    {
        get
        {
            lock (_calls)
            {
                return [.. _calls];
            }
        }
    }

    /// <summary>A JSON response.</summary>
    public static HttpResponseMessage Json(string body, HttpStatusCode status = HttpStatusCode.OK) =>
        new(status) { Content = new StringContent(body, Encoding.UTF8, "application/json") };

    /// <summary>An event-stream response reading from <paramref name="stream"/>.</summary>
    public static HttpResponseMessage EventStream(Stream stream)
    {
        var content = new StreamContent(stream);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(SseFormat.ContentType);
        return new HttpResponseMessage(HttpStatusCode.OK) { Content = content };
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var body = request.Content is null ? string.Empty : await request.Content.ReadAsStringAsync(cancellationToken);
        var call = new UpstreamCall(
            request.RequestUri!.Host,
            request.RequestUri.AbsolutePath,
            request.Headers.TryGetValues(PdHeaders.RequestId, out var ids) ? ids.Single() : null,
            request.Headers.Authorization?.ToString(),
            body)
        {
            Headers = request.Headers.Concat(request.Content?.Headers ?? Enumerable.Empty<KeyValuePair<string, IEnumerable<string>>>())
                .ToDictionary(h => h.Key.ToLowerInvariant(), h => string.Join(",", h.Value)),
        };
        lock (_calls)
        {
            _calls.Add(call);
        }

        var response = await Respond(call, cancellationToken);
        response.RequestMessage = request;
        return response;
    }
}

/// <summary>An upstream body that sends its first chunk, then nothing until the reader gives up.</summary>
/// <param name="first">The first chunk.</param>
internal sealed class StallingStream(string first) : Stream
{
    private byte[]? _first = Encoding.UTF8.GetBytes(first);

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_first is { } chunk && !buffer.IsEmpty)
        {
            _first = null;
            chunk.CopyTo(buffer);
            return chunk.Length;
        }

        if (_first is not null)
        {
            return 0;
        }

        await Task.Delay(Timeout.Infinite, cancellationToken);
        return 0;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    /// <summary>Completes when the stream is disposed (the proxy closed this response).</summary>
    public TaskCompletionSource Disposed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    protected override void Dispose(bool disposing)
    {
        Disposed.TrySetResult();
        base.Dispose(disposing);
    }
}
