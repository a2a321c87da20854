using System.Text.Json;
using System.Text.Json.Serialization;

namespace PdApp.Bench.Reporting;

/// <summary>Writes a <see cref="BenchReport"/> as indented snake_case JSON.</summary>
internal static class JsonReportWriter
{
    /// <summary>The serializer options of the report.</summary>
    public static JsonSerializerOptions Options { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DictionaryKeyPolicy = null,
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.Strict,
    };

    /// <summary>Writes <paramref name="report"/> to <paramref name="file"/>, creating its folder.</summary>
    public static async Task WriteAsync(BenchReport report, FileInfo file, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(file);
        file.Directory?.Create();
        await using var stream = file.Create();
        await JsonSerializer.SerializeAsync(stream, report, Options, cancellationToken).ConfigureAwait(false);
    }
}
