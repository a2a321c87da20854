using System.Diagnostics.CodeAnalysis;

namespace PdApp.Protocol.Connectors;

/// <summary>
/// The one list of supported KV connectors and their <see cref="KvConnectorTraits"/>. Names match
/// exactly (ordinal), as vLLM's <c>KVConnectorFactory</c> does. Adding a connector is one entry
/// here plus its implementation in each project.
/// </summary>
public static class ConnectorCatalog
{
    private static readonly KvConnectorTraits[] Entries =
    [
        new()
        {
            Kind = KvConnectorKind.SharedStorage,
            Name = KvConnectorNames.SharedStorage,
            Engine = KvEngineGeneration.V1,
            DecodeCanPrefillAlone = true,
            DecodeRetryIsSafe = true,
            DecodeCanSkipPrefill = true,
        },
        new()
        {
            Kind = KvConnectorKind.LMCacheV1,
            Name = KvConnectorNames.LMCacheV1,
            Engine = KvEngineGeneration.V1,
            DecodeCanPrefillAlone = true,
            DecodeRetryIsSafe = true,
            DecodeCanSkipPrefill = true,
            SelectsDecodeFirst = true,
            PrefillNotifiesProxy = true,
            DefaultImage = KvEngineImage.LMCache,
        },
        new()
        {
            Kind = KvConnectorKind.Nixl,
            Name = KvConnectorNames.Nixl,
            Engine = KvEngineGeneration.V1,
            DecodeCanPrefillAlone = true,
            DecodeRetryIsSafe = true,
            DecodeCanSkipPrefill = true,
            PrefillBodyFields = [KvRequestFields.NixlPrefillParams],
            DecodeBodyFields = [KvRequestFields.KvTransferParams],
        },
        new()
        {
            Kind = KvConnectorKind.PyNccl,
            Name = KvConnectorNames.PyNccl,
            Engine = KvEngineGeneration.V0,
            DecodeCanPrefillAlone = false,
            DecodeRetryIsSafe = false,
            DecodeCanSkipPrefill = false,
            DefaultImage = KvEngineImage.GuidePyNccl,
        },
        new()
        {
            Kind = KvConnectorKind.P2pNccl,
            Name = KvConnectorNames.P2pNccl,
            Engine = KvEngineGeneration.V1,
            DecodeCanPrefillAlone = false,
            DecodeRetryIsSafe = false,
            DecodeCanSkipPrefill = false,
            NeedsRegistry = true,
            SelectsDecodeFirst = true,
            RequestIdNamesPeers = true,
        },
        new()
        {
            // Neutral in every trait: a MultiConnector is what its children make it.
            Kind = KvConnectorKind.Multi,
            Name = KvConnectorNames.Multi,
            Engine = KvEngineGeneration.V1,
            IsComposite = true,
            DecodeCanPrefillAlone = true,
            DecodeRetryIsSafe = true,
            DecodeCanSkipPrefill = true,
        },
    ];

    /// <summary>Every supported connector, in <see cref="KvConnectorKind"/> order.</summary>
    public static IReadOnlyList<KvConnectorTraits> All => Entries;

    /// <summary>Every supported connector's name, for error messages.</summary>
    public static IReadOnlyList<string> Names { get; } = Array.ConvertAll(Entries, e => e.Name);

    /// <summary>The traits of <paramref name="kind"/>.</summary>
    /// <param name="kind">The connector.</param>
    /// <returns>Its traits.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="kind"/> is not a defined connector.</exception>
    public static KvConnectorTraits Get(KvConnectorKind kind) =>
        (uint)kind < (uint)Entries.Length && Entries[(int)kind].Kind == kind
            ? Entries[(int)kind]
            : throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown connector kind.");

    /// <summary>Looks up a connector by its <c>kv_connector</c> name (exact match).</summary>
    /// <param name="name">The name, e.g. <c>NixlConnector</c>.</param>
    /// <param name="traits">The traits, when found.</param>
    /// <returns>True when <paramref name="name"/> is a supported connector.</returns>
    public static bool TryGet([NotNullWhen(true)] string? name, [NotNullWhen(true)] out KvConnectorTraits? traits)
    {
        foreach (var entry in Entries)
        {
            if (string.Equals(entry.Name, name, StringComparison.Ordinal))
            {
                traits = entry;
                return true;
            }
        }

        traits = null;
        return false;
    }

    /// <summary>Whether <paramref name="name"/> is a supported connector.</summary>
    /// <param name="name">The name.</param>
    /// <returns>True when known.</returns>
    public static bool IsKnown([NotNullWhen(true)] string? name) => TryGet(name, out _);

    /// <summary>
    /// Resolves a configured connector and, for a <c>MultiConnector</c>, its children: every name
    /// known, no list inside a list. Whether a child suits a <c>MultiConnector</c> in vLLM
    /// (<see cref="KvConnectorTraits.CanBeMultiChild"/>) is left to each validator.
    /// </summary>
    /// <param name="connector">The connector name.</param>
    /// <param name="children">The <c>MultiConnector</c>'s children (ignored for other connectors).</param>
    /// <param name="resolved">The resolved connector, when valid.</param>
    /// <returns>True when the connector (and its children) resolve.</returns>
    public static bool TryResolve(string? connector, IEnumerable<string>? children, [NotNullWhen(true)] out ResolvedConnector? resolved)
    {
        resolved = null;
        if (!TryGet(connector, out var traits))
        {
            return false;
        }

        if (!traits.IsComposite)
        {
            resolved = new ResolvedConnector(traits, [traits]);
            return true;
        }

        var list = new List<KvConnectorTraits>();
        foreach (var child in children ?? [])
        {
            if (!TryGet(child, out var childTraits) || childTraits.IsComposite)
            {
                return false;
            }

            list.Add(childTraits);
        }

        if (list.Count == 0)
        {
            return false;
        }

        resolved = new ResolvedConnector(traits, list);
        return true;
    }
}
