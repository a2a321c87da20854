namespace PdApp.Protocol.Connectors;

/// <summary>
/// A configured connector with the connectors that really move the KV (itself, or a
/// <c>MultiConnector</c>'s children), and the traits they impose together: a capability holds only
/// when every one allows it, a demand applies when any one makes it.
/// </summary>
public sealed class ResolvedConnector
{
    internal ResolvedConnector(KvConnectorTraits connector, IReadOnlyList<KvConnectorTraits> effective)
    {
        Connector = connector;
        Effective = effective;
        IEnumerable<KvConnectorTraits> all = [connector, .. effective];
        Engine = all.Any(t => t.Engine == KvEngineGeneration.V0) ? KvEngineGeneration.V0 : KvEngineGeneration.V1;
        DecodeCanPrefillAlone = all.All(t => t.DecodeCanPrefillAlone);
        DecodeRetryIsSafe = all.All(t => t.DecodeRetryIsSafe);
        DecodeCanSkipPrefill = all.All(t => t.DecodeCanSkipPrefill);
        NeedsRegistry = all.Any(t => t.NeedsRegistry);
        SelectsDecodeFirst = all.Any(t => t.SelectsDecodeFirst);
        RequestIdNamesPeers = all.Any(t => t.RequestIdNamesPeers);
        PrefillNotifiesProxy = all.Any(t => t.PrefillNotifiesProxy);
        PrefillBodyFields = all.SelectMany(t => t.PrefillBodyFields).DistinctBy(f => f.Name, StringComparer.Ordinal).ToArray();
        DecodeBodyFields = all.SelectMany(t => t.DecodeBodyFields).Distinct(StringComparer.Ordinal).ToArray();
        DefaultImage = all.Max(t => t.DefaultImage);
    }

    /// <summary>The configured connector.</summary>
    public KvConnectorTraits Connector { get; }

    /// <summary>The configured connector itself, or a <c>MultiConnector</c>'s children in order.</summary>
    public IReadOnlyList<KvConnectorTraits> Effective { get; }

    /// <summary>V0 when any connector needs the v0 engine.</summary>
    public KvEngineGeneration Engine { get; }

    /// <inheritdoc cref="KvConnectorTraits.DecodeCanPrefillAlone"/>
    public bool DecodeCanPrefillAlone { get; }

    /// <inheritdoc cref="KvConnectorTraits.DecodeRetryIsSafe"/>
    public bool DecodeRetryIsSafe { get; }

    /// <inheritdoc cref="KvConnectorTraits.DecodeCanSkipPrefill"/>
    public bool DecodeCanSkipPrefill { get; }

    /// <inheritdoc cref="KvConnectorTraits.NeedsRegistry"/>
    public bool NeedsRegistry { get; }

    /// <inheritdoc cref="KvConnectorTraits.SelectsDecodeFirst"/>
    public bool SelectsDecodeFirst { get; }

    /// <inheritdoc cref="KvConnectorTraits.RequestIdNamesPeers"/>
    public bool RequestIdNamesPeers { get; }

    /// <inheritdoc cref="KvConnectorTraits.PrefillNotifiesProxy"/>
    public bool PrefillNotifiesProxy { get; }

    /// <summary>Every connector's prefill-body fields, the first of each name kept.</summary>
    public IReadOnlyList<KvRequestField> PrefillBodyFields { get; }

    /// <summary>Every connector's decode-body fields.</summary>
    public IReadOnlyList<string> DecodeBodyFields { get; }

    /// <summary>The image that carries every connector's library.</summary>
    public KvEngineImage DefaultImage { get; }

    /// <summary>Whether any of the connectors is <paramref name="kind"/>.</summary>
    /// <param name="kind">The connector.</param>
    /// <returns>True when the configured connector or one of its children is <paramref name="kind"/>.</returns>
    public bool Uses(KvConnectorKind kind) => Connector.Kind == kind || Effective.Any(t => t.Kind == kind);
}
