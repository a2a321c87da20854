using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using PdApp.Protocol;
using PdApp.Protocol.Connectors;
using PdApp.Protocol.KvEvents;
using PdApp.Protocol.Vllm;

namespace PdApp.Simulator.Configuration;

/// <summary>
/// Turns a <c>vllm serve</c> command line into validated <see cref="SimulatorOptions"/>. Known vLLM
/// flags the simulator cannot honour (GPU sizing, parallelism) and unknown flags are accepted and
/// logged once each, so the same command line runs against real vLLM and the simulator; invalid
/// values for flags it does honour fail start-up naming the flag.
/// </summary>
internal static class SimulatorOptionsParser
{
    /// <summary>
    /// vLLM flags that only shape the real engine (<see cref="VllmEngineArguments.EngineOnly"/>, plus the
    /// PyNccl-era <c>--kv-buffer-size</c>): accepted and ignored.
    /// </summary>
    private static readonly Dictionary<string, VllmFlagArity> IgnoredVllmFlags =
        Index([.. VllmEngineArguments.EngineOnly, new VllmFlag("--kv-buffer-size", VllmFlagArity.One)]);

    /// <summary>Flags the simulator honours: vLLM's <see cref="VllmEngineArguments.Served"/> and its own <see cref="SimulatorFlags"/>.</summary>
    private static readonly Dictionary<string, VllmFlagArity> HonouredFlags =
        Index([.. VllmEngineArguments.Served, .. SimulatorFlags.All]);

    /// <summary>Parses and validates the command line.</summary>
    /// <param name="args">Arguments after the program name.</param>
    /// <param name="logMessages">Receives one line per ignored flag (logged once logging exists).</param>
    /// <returns>The options.</returns>
    /// <exception cref="SimulatorArgumentException">A flag has an invalid value.</exception>
    public static SimulatorOptions Parse(IReadOnlyList<string> args, ICollection<string> logMessages)
    {
        var parsed = VllmCommandLine.Split(args, ArityOf);
        foreach (var flag in parsed.FlagNames)
        {
            if (IgnoredVllmFlags.ContainsKey(flag) && !HonouredFlags.ContainsKey(flag))
            {
                logMessages.Add($"Ignoring engine-only vLLM flag {flag} {string.Join(' ', parsed.Values(flag))}".TrimEnd());
            }
            else if (!HonouredFlags.ContainsKey(flag))
            {
                logMessages.Add($"Ignoring unknown flag {flag} {string.Join(' ', parsed.Values(flag))}".TrimEnd());
            }
        }

        var model = Single(parsed, VllmEngineArguments.Model.Name) ?? parsed.PositionalModel
            ?? throw new SimulatorArgumentException("model_tag", "a model is required (positional or --model)");
        var served = parsed.Values(VllmEngineArguments.ServedModelName.Name).Where(v => !string.IsNullOrWhiteSpace(v)).Select(v => v!).ToArray();
        if (parsed.Has(VllmEngineArguments.ServedModelName.Name) && served.Length == 0)
        {
            throw new SimulatorArgumentException(VllmEngineArguments.ServedModelName.Name, "expected at least one name");
        }

        var timing = new TimingOptions();
        timing = timing with
        {
            TimeToFirstTokenMs = Double(parsed, SimulatorFlags.TimeToFirstToken.Name, timing.TimeToFirstTokenMs, min: 0),
            PrefillTimePerTokenMs = Double(parsed, SimulatorFlags.PrefillTimePerToken.Name, timing.PrefillTimePerTokenMs, min: 0),
            InterTokenLatencyMs = Double(parsed, SimulatorFlags.InterTokenLatency.Name, timing.InterTokenLatencyMs, min: 0),
            KvCacheTransferLatencyMs = Double(parsed, SimulatorFlags.KvCacheTransferLatency.Name, timing.KvCacheTransferLatencyMs, min: 0),
            KvCacheTransferTimePerTokenMs = Double(parsed, SimulatorFlags.KvCacheTransferTimePerToken.Name, timing.KvCacheTransferTimePerTokenMs, min: 0),
            KvTransferWaitTimeoutMs = Double(parsed, SimulatorFlags.KvTransferWaitTimeout.Name, timing.KvTransferWaitTimeoutMs, min: 0),
            MaxNumSeqs = Int(parsed, VllmEngineArguments.MaxNumSeqs.Name, timing.MaxNumSeqs, min: 1),
            TimeFactorUnderLoad = Double(parsed, SimulatorFlags.TimeFactorUnderLoad.Name, timing.TimeFactorUnderLoad, min: 1),
            KvCacheSizeBlocks = Int(parsed, SimulatorFlags.KvCacheSize.Name, timing.KvCacheSizeBlocks, min: 1),
            PrefillContention = Switch(parsed, SimulatorFlags.PrefillContention.Name),
            MaxNumBatchedTokens = Int(parsed, SimulatorFlags.MaxNumBatchedTokens.Name, timing.MaxNumBatchedTokens, min: 1),
            PrefillInterference = !Switch(parsed, SimulatorFlags.NoPrefillInterference.Name),
        };

        var faults = new FaultOptions
        {
            FailureInjectionRate = Double(parsed, SimulatorFlags.FailureInjectionRate.Name, 0, min: 0, max: 100),
            FailureTypes = FailureTypes(parsed),
            AddedLatencyMs = Double(parsed, SimulatorFlags.FaultAddedLatency.Name, 0, min: 0),
            AbortAfterTokens = Int(parsed, SimulatorFlags.FaultAbortAfterTokens.Name, 0, min: 0),
            ErrorAfterTokens = Int(parsed, SimulatorFlags.FaultErrorAfterTokens.Name, 0, min: 0),
            SlowStartSeconds = Double(parsed, SimulatorFlags.FaultSlowStart.Name, 0, min: 0),
            Unhealthy = Switch(parsed, SimulatorFlags.FaultUnhealthy.Name),
        };

        return new SimulatorOptions
        {
            Model = model,
            ServedModelNames = served,
            Host = Single(parsed, VllmEngineArguments.Host.Name) is { Length: > 0 } host ? host : "0.0.0.0",
            Port = Int(parsed, VllmEngineArguments.Port.Name, 8000, min: 0, max: 65535),
            MaxModelLen = Int(parsed, VllmEngineArguments.MaxModelLen.Name, 4096, min: 1),
            ApiKey = Single(parsed, VllmEngineArguments.ApiKey.Name),
            EnableRequestIdHeaders = Switch(parsed, VllmEngineArguments.EnableRequestIdHeaders.Name),
            OtlpTracesEndpoint = Single(parsed, VllmEngineArguments.OtlpTracesEndpoint.Name),
            BlockSize = Int(parsed, VllmEngineArguments.BlockSize.Name, 16, min: 1),
            Seed = Long(parsed, VllmEngineArguments.Seed.Name, 0),
            InstanceName = Single(parsed, SimulatorFlags.InstanceName.Name),
            Tokenizer = Single(parsed, VllmEngineArguments.Tokenizer.Name),
            KvTransfer = KvTransfer(parsed),
            KvEvents = KvEvents(parsed),
            Timing = timing,
            Faults = faults,
        };
    }

    private static VllmFlagArity ArityOf(string flag) =>
        HonouredFlags.TryGetValue(flag, out var arity) || IgnoredVllmFlags.TryGetValue(flag, out arity) ? arity : VllmFlagArity.One;

    private static Dictionary<string, VllmFlagArity> Index(IEnumerable<VllmFlag> flags)
    {
        var index = new Dictionary<string, VllmFlagArity>(StringComparer.Ordinal);
        foreach (var flag in flags)
        {
            foreach (var name in flag.Aliases.Prepend(flag.Name))
            {
                index.Add(name, flag.Arity);
            }
        }

        return index;
    }

    private static string? Single(ParsedArguments parsed, string flag)
    {
        var values = parsed.Values(flag);
        if (!parsed.Has(flag))
        {
            return null;
        }

        if (values.Count == 0 || values[^1] is null)
        {
            throw new SimulatorArgumentException(flag, "expected one argument");
        }

        // argparse keeps the last occurrence of a repeated flag.
        return values[^1];
    }

    private static bool Switch(ParsedArguments parsed, string flag)
    {
        if (!parsed.Has(flag))
        {
            return false;
        }

        var values = parsed.Values(flag);
        if (values.Count == 0)
        {
            return true;
        }

        return bool.TryParse(values[^1], out var value)
            ? value
            : throw new SimulatorArgumentException(flag, $"invalid boolean value: '{values[^1]}'");
    }

    private static int Int(ParsedArguments parsed, string flag, int fallback, int min = int.MinValue, int max = int.MaxValue)
    {
        var text = Single(parsed, flag);
        if (text is null)
        {
            return fallback;
        }

        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
        {
            throw new SimulatorArgumentException(flag, $"invalid int value: '{text}'");
        }

        return value < min || value > max
            ? throw new SimulatorArgumentException(flag, $"{value} is out of range [{min}, {max}]")
            : value;
    }

    private static long Long(ParsedArguments parsed, string flag, long fallback)
    {
        var text = Single(parsed, flag);
        if (text is null)
        {
            return fallback;
        }

        return long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new SimulatorArgumentException(flag, $"invalid int value: '{text}'");
    }

    private static double Double(ParsedArguments parsed, string flag, double fallback, double min = double.MinValue, double max = double.MaxValue)
    {
        var text = Single(parsed, flag);
        if (text is null)
        {
            return fallback;
        }

        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value))
        {
            throw new SimulatorArgumentException(flag, $"invalid float value: '{text}'");
        }

        return value < min || value > max
            ? throw new SimulatorArgumentException(flag, $"{value} is out of range [{min}, {max}]")
            : value;
    }

    private static string[] FailureTypes(ParsedArguments parsed)
    {
        var types = parsed.Values(SimulatorFlags.FailureTypes.Name)
            .SelectMany(v => (v ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .ToArray();
        foreach (var type in types)
        {
            if (!FaultOptions.KnownFailureTypes.Contains(type))
            {
                throw new SimulatorArgumentException(
                    SimulatorFlags.FailureTypes.Name,
                    $"invalid choice: '{type}' (choose from {string.Join(", ", FaultOptions.KnownFailureTypes)})");
            }
        }

        return types;
    }

    private static KvEventsConfig? KvEvents(ParsedArguments parsed)
    {
        var flag = VllmEngineArguments.KvEventsConfig.Name;
        var json = Single(parsed, flag);
        if (json is null)
        {
            return null;
        }

        KvEventsConfig config;
        try
        {
            config = KvEventsConfig.Parse(json);
        }
        catch (JsonException ex)
        {
            throw new SimulatorArgumentException(flag, $"invalid JSON: {ex.Message}", ex);
        }

        if (config.Publisher is { } publisher && publisher is not (KvEventsConfig.ZmqPublisher or "null"))
        {
            throw new SimulatorArgumentException(flag, $"Unsupported publisher: {publisher} (choose from zmq, null)");
        }

        if (config.PublishesOverZmq && config.Endpoint is { } endpoint && !endpoint.StartsWith("tcp://", StringComparison.Ordinal))
        {
            throw new SimulatorArgumentException(flag, $"the simulator publishes over tcp:// only (was {endpoint})");
        }

        return config;
    }

    private static KvTransferConfig? KvTransfer(ParsedArguments parsed)
    {
        var flag = VllmEngineArguments.KvTransferConfig.Name;
        var json = Single(parsed, flag);
        if (json is null)
        {
            return null;
        }

        KvTransferConfig config;
        try
        {
            config = KvTransferConfig.Parse(json);
        }
        catch (Exception ex) when (ex is JsonException or ArgumentException or InvalidOperationException)
        {
            throw new SimulatorArgumentException(flag, $"invalid JSON: {ex.Message}", ex);
        }

        // vLLM's KVTransferConfig.__post_init__ checks these two.
        if (config.KvRole is not null && !KvRoles.All.Contains(config.KvRole))
        {
            throw new SimulatorArgumentException(flag, $"Unsupported kv_role: {config.KvRole}. Supported roles are {string.Join(", ", KvRoles.All)}");
        }

        if (config.KvConnector is not null && config.KvRole is null)
        {
            throw new SimulatorArgumentException(flag, "Please specify kv_role when kv_connector is set, supported roles are " + string.Join(", ", KvRoles.All));
        }

        if (config.KvConnector is not null && !ConnectorCatalog.IsKnown(config.KvConnector))
        {
            throw new SimulatorArgumentException(flag, $"Unsupported connector type {config.KvConnector}; the simulator supports {string.Join(", ", ConnectorCatalog.Names)}");
        }

        return config;
    }
}
