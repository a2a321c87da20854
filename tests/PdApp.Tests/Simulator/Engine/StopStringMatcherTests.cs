using PdApp.Simulator.Engine;

namespace PdApp.Tests.Simulator.Engine;

public sealed class StopStringMatcherTests
{
    [Fact]
    public void StopSpanningTokens_IsCutAndNeverEmitted()
    {
        var matcher = new StopStringMatcher(["b c"]);

        var emitted = string.Concat(new[] { "a", " b", " c", " d" }.Select((token, i) => matcher.MatchedStop is null ? matcher.Append(token, i == 3) : string.Empty));

        Assert.Equal("a ", emitted);
        Assert.Equal("b c", matcher.MatchedStop);
    }

    [Fact]
    public void HeldBackText_IsReleasedWhenItCannotBecomeAStop_AndAtTheEnd()
    {
        var matcher = new StopStringMatcher(["xyz"]);

        var first = matcher.Append("ab", isLast: false);
        var second = matcher.Append("cd", isLast: false);
        var last = matcher.Append("ef", isLast: true);

        Assert.Equal("abcdef", first + second + last);
        Assert.Null(matcher.MatchedStop);
        Assert.True(first.Length < 2, "text that could start a stop string is held back");
    }

    [Fact]
    public void EarliestOfSeveralStops_Wins()
    {
        var matcher = new StopStringMatcher(["late", "ear"]);

        var emitted = matcher.Append("the early late", isLast: true);

        Assert.Equal("the ", emitted);
        Assert.Equal("ear", matcher.MatchedStop);
    }
}
