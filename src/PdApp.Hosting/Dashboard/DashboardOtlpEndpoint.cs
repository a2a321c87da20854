using Microsoft.Extensions.Configuration;

namespace PdApp.Hosting.Dashboard;

/// <summary>
/// The dashboard's OTLP endpoints as the app host is configured with them, read the way Aspire's
/// own (internal) <c>OtlpEndpointResolver</c> reads them for <c>WithOtlpExporter</c>:
/// <c>ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL</c> (gRPC) and <c>ASPIRE_DASHBOARD_OTLP_HTTP_ENDPOINT_URL</c>
/// (OTLP/HTTP), with their legacy <c>DOTNET_</c> names; without either, Aspire assumes gRPC on
/// <c>http://localhost:18889</c>.
/// </summary>
/// <param name="GrpcUrl">The gRPC endpoint, if configured.</param>
/// <param name="HttpUrl">The OTLP/HTTP endpoint, if configured.</param>
internal sealed record DashboardOtlpEndpoint(string? GrpcUrl, string? HttpUrl)
{
    /// <summary>Aspire's default when nothing is configured.</summary>
    public const string DefaultGrpcUrl = "http://localhost:18889";

    /// <summary>Reads the endpoints from the app host's configuration.</summary>
    /// <param name="configuration">The configuration.</param>
    /// <returns>The endpoints.</returns>
    public static DashboardOtlpEndpoint From(IConfiguration configuration) => new(
        First(configuration, "ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL", "DOTNET_DASHBOARD_OTLP_ENDPOINT_URL"),
        First(configuration, "ASPIRE_DASHBOARD_OTLP_HTTP_ENDPOINT_URL", "DOTNET_DASHBOARD_OTLP_HTTP_ENDPOINT_URL"));

    /// <summary>gRPC unless only an OTLP/HTTP endpoint is configured (Aspire's preference).</summary>
    public bool PrefersGrpc => GrpcUrl is not null || HttpUrl is null;

    /// <summary>The URL for <paramref name="grpc"/>.</summary>
    /// <param name="grpc">True for gRPC, false for OTLP/HTTP.</param>
    /// <returns>The URL.</returns>
    /// <exception cref="InvalidOperationException">OTLP/HTTP was asked for and is not configured.</exception>
    public string UrlFor(bool grpc) => grpc
        ? GrpcUrl ?? DefaultGrpcUrl
        : HttpUrl ?? throw new InvalidOperationException(
            "OTLP/HTTP traces were requested but ASPIRE_DASHBOARD_OTLP_HTTP_ENDPOINT_URL is not configured for the app host.");

    private static string? First(IConfiguration configuration, string name, string legacy) =>
        configuration[name] is { Length: > 0 } value ? value : configuration[legacy] is { Length: > 0 } old ? old : null;
}
