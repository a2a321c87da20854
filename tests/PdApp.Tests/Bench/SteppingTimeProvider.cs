namespace PdApp.Tests.Bench;

/// <summary>A clock in microsecond ticks that moves only when the test advances it.</summary>
internal sealed class SteppingTimeProvider : TimeProvider
{
    private long _now = 1_000_000;

    public override long TimestampFrequency => 1_000_000;

    public override long GetTimestamp() => Interlocked.Read(ref _now);

    public void Advance(TimeSpan by) => Interlocked.Add(ref _now, (long)(by.TotalMilliseconds * 1000));
}
