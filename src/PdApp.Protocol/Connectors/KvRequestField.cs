namespace PdApp.Protocol.Connectors;

/// <summary>A top-level field a connector adds to a completion request body sent to an instance.</summary>
/// <param name="Name">The JSON property name, e.g. <c>kv_transfer_params</c>.</param>
/// <param name="Json">The property's value as compact JSON text.</param>
public sealed record KvRequestField(string Name, string Json)
{
    /// <summary>The value as UTF-8 bytes, ready for <c>Utf8JsonWriter.WriteRawValue</c>.</summary>
    public ReadOnlyMemory<byte> Utf8Json { get; } = System.Text.Encoding.UTF8.GetBytes(Json);
}
