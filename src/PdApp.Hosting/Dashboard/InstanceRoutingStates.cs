using System.Globalization;
using System.Text.Json;
using Aspire.Hosting.ApplicationModel;

namespace PdApp.Hosting.Dashboard;

/// <summary>
/// Maps the proxy's view of its instances (<c>GET /admin/instances</c>) to the custom states the
/// dashboard shows on the engines: <c>Draining</c>, or <c>Ejected: &lt;reason&gt;</c>; null where
/// the proxy routes to the instance normally, so Aspire's own state stands.
/// </summary>
internal static class InstanceRoutingStates
{
    /// <summary>The state of an instance the proxy sends no new requests to (admin drain).</summary>
    public const string Draining = "Draining";

    /// <summary>The prefix of the state of an instance the proxy took out of rotation itself.</summary>
    public const string EjectedPrefix = "Ejected: ";

    /// <summary>The style of the custom states (a warning, not an error: the engine still runs).</summary>
    public static readonly string Style = KnownResourceStateStyles.Warn;

    /// <summary>The custom state of each instance in the admin API's list, by instance name.</summary>
    /// <param name="json">The body of <c>GET /admin/instances</c>.</param>
    /// <param name="now">The current time (ejections that ended are not shown).</param>
    /// <returns>Each listed instance's state text, null when it is routed to normally.</returns>
    public static IReadOnlyDictionary<string, string?> FromAdminList(string json, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(json);
        using var document = JsonDocument.Parse(json);
        var states = new Dictionary<string, string?>(StringComparer.Ordinal);
        if (!document.RootElement.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Array)
        {
            return states;
        }

        foreach (var instance in data.EnumerateArray())
        {
            if (instance.TryGetProperty("name", out var name) && name.GetString() is { Length: > 0 } text)
            {
                states[text] = StateOf(instance, now);
            }
        }

        return states;
    }

    /// <summary>Whether <paramref name="state"/> is one this mapping sets (and so may be restored).</summary>
    /// <param name="state">A resource's state text.</param>
    /// <returns>True for <c>Draining</c> and <c>Ejected: ...</c>.</returns>
    public static bool IsCustom(string? state) =>
        state is not null && (state == Draining || state.StartsWith(EjectedPrefix, StringComparison.Ordinal));

    private static string? StateOf(JsonElement instance, DateTimeOffset now)
    {
        if (Flag(instance, "draining"))
        {
            return Draining;
        }

        if (instance.TryGetProperty("healthy", out var healthy) && healthy.ValueKind == JsonValueKind.False)
        {
            return EjectedPrefix + "health check failing";
        }

        if (instance.TryGetProperty("ejectedUntil", out var until)
            && until.ValueKind == JsonValueKind.String
            && until.TryGetDateTimeOffset(out var end)
            && end > now)
        {
            return EjectedPrefix + "failed requests, back at " + end.UtcDateTime.ToString("HH:mm:ss", CultureInfo.InvariantCulture) + " UTC";
        }

        return null;
    }

    private static bool Flag(JsonElement instance, string name) =>
        instance.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.True;
}
