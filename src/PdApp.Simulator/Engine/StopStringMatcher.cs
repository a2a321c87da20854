using System.Text;

namespace PdApp.Simulator.Engine;

/// <summary>
/// Cuts output at the first stop string, as vLLM's detokenizer does with
/// <c>include_stop_str_in_output=false</c>: text that could still become a stop string is held back
/// from the stream until it cannot (vLLM's stop buffer), and the stop string itself never appears.
/// </summary>
internal sealed class StopStringMatcher(IReadOnlyList<string> stops)
{
    private readonly StringBuilder _text = new();
    private readonly int _holdBack = stops.Count == 0 ? 0 : stops.Max(s => s.Length) - 1;
    private int _emitted;

    /// <summary>The stop string that matched, once one has.</summary>
    public string? MatchedStop { get; private set; }

    /// <summary>Adds a token's text; returns the text now safe to emit.</summary>
    public string Append(string token, bool isLast)
    {
        if (stops.Count == 0)
        {
            return token;
        }

        _text.Append(token);
        var searchFrom = Math.Max(0, _emitted - _holdBack);
        var full = _text.ToString(searchFrom, _text.Length - searchFrom);
        var earliest = -1;
        foreach (var stop in stops)
        {
            var index = full.IndexOf(stop, StringComparison.Ordinal);
            if (index >= 0 && (earliest < 0 || index < earliest))
            {
                earliest = index;
                MatchedStop = stop;
            }
        }

        int end;
        if (earliest >= 0)
        {
            end = searchFrom + earliest;
        }
        else
        {
            end = isLast ? _text.Length : Math.Max(_emitted, _text.Length - _holdBack);
        }

        var delta = end > _emitted ? _text.ToString(_emitted, end - _emitted) : string.Empty;
        _emitted = Math.Max(_emitted, end);
        return delta;
    }
}
