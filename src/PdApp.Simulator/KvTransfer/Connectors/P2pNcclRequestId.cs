using System.Text.RegularExpressions;

namespace PdApp.Simulator.KvTransfer.Connectors;

/// <summary>
/// The peer addresses P2pNccl's proxy writes into the request id:
/// <c>___prefill_addr_&lt;ip:port&gt;___decode_addr_&lt;ip:port&gt;_&lt;uuid&gt;</c>
/// (vLLM's P2pNcclConnector.parse_request_id reads them back with the same patterns).
/// </summary>
internal static partial class P2pNcclRequestId
{
    /// <summary>Extracts the prefill and decode KV addresses, or null when the id does not carry them.</summary>
    public static (string PrefillHost, int PrefillPort, string DecodeHost, int DecodePort)? Parse(string requestId)
    {
        var prefill = PrefillPattern().Match(requestId);
        var decode = DecodePattern().Match(requestId);
        if (!prefill.Success || !decode.Success
            || !int.TryParse(prefill.Groups["port"].ValueSpan, out var prefillPort)
            || !int.TryParse(decode.Groups["port"].ValueSpan, out var decodePort))
        {
            return null;
        }

        return (prefill.Groups["host"].Value, prefillPort, decode.Groups["host"].Value, decodePort);
    }

    [GeneratedRegex(@"___prefill_addr_(?<host>[^_:]+):(?<port>\d+)___", RegexOptions.CultureInvariant)]
    private static partial Regex PrefillPattern();

    [GeneratedRegex(@"___decode_addr_(?<host>[^_:]+):(?<port>\d+)", RegexOptions.CultureInvariant)]
    private static partial Regex DecodePattern();
}
