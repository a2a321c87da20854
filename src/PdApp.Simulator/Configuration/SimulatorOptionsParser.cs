using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using PdApp.Protocol;
using PdApp.Protocol.Connectors;

namespace PdApp.Simulator.Configuration;

/// <summary>
/// Turns a <c>vllm serve</c> command line into validated <see cref="SimulatorOptions"/>. Known vLLM
/// flags the simulator cannot honour (GPU sizing, parallelism) and unknown flags are accepted and
/// logged once each, so the same command line runs against real vLLM and the simulator; invalid
/// values for flags it does honour fail start-up naming the flag.
/// </summary>
internal static class SimulatorOptionsParser
{
    /// <summary>vLLM flags that only matter on a GPU: accepted and ignored. Switches take no value.</summary>
    private static readonly Dictionary<string, FlagArity> IgnoredVllmFlags = new(StringComparer.Ordinal)
    {
        ["--gpu-memory-utilization"] = FlagArity.One,
        ["--tensor-parallel-size"] = FlagArity.One,
        ["--tp"] = FlagArity.One,
        ["--pipeline-parallel-size"] = FlagArity.One,
        ["--pp"] = FlagArity.One,
        ["--data-parallel-size"] = FlagArity.One,
        ["--dp"] = FlagArity.One,
        ["--kv-buffer-size"] = FlagArity.One,
        ["--dtype"] = FlagArity.One,
        ["--quantization"] = FlagArity.One,
        ["--kv-cache-dtype"] = FlagArity.One,
        ["--swap-space"] = FlagArity.One,
        ["--cpu-offload-gb"] = FlagArity.One,
        ["--max-num-batched-tokens"] = FlagArity.One,
        ["--distributed-executor-backend"] = FlagArity.One,
        ["--load-format"] = FlagArity.One,
        ["--download-dir"] = FlagArity.One,
        ["--tokenizer"] = FlagArity.One,
        ["--revision"] = FlagArity.One,
        ["--trust-remote-code"] = FlagArity.None,
        ["--enforce-eager"] = FlagArity.None,
        ["--enable-prefix-caching"] = FlagArity.None,
        ["--no-enable-prefix-caching"] = FlagArity.None,
        ["--enable-chunked-prefill"] = FlagArity.None,
        ["--disable-log-requests"] = FlagArity.None,
        ["--disable-log-stats"] = FlagArity.None,
        ["--disable-frontend-multiprocessing"] = FlagArity.None,
    };

    /// <summary>Flags the simulator honours and how many values each takes.</summary>
    private static readonly Dictionary<string, FlagArity> HonouredFlags = new(StringComparer.Ordinal)
    {
        ["--model"] = FlagArity.One,
        ["--served-model-name"] = FlagArity.Many,
        ["--host"] = FlagArity.One,
        ["--port"] = FlagArity.One,
        ["--max-model-len"] = FlagArity.One,
        ["--api-key"] = FlagArity.One,
        ["--enable-request-id-headers"] = FlagArity.None,
        ["--otlp-traces-endpoint"] = FlagArity.One,
        ["--kv-transfer-config"] = FlagArity.One,
        ["--block-size"] = FlagArity.One,
        ["--seed"] = FlagArity.One,
        ["--instance-name"] = FlagArity.One,
        ["--time-to-first-token"] = FlagArity.One,
        ["--prefill-time-per-token"] = FlagArity.One,
        ["--inter-token-latency"] = FlagArity.One,
        ["--kv-cache-transfer-latency"] = FlagArity.One,
        ["--kv-cache-transfer-time-per-token"] = FlagArity.One,
        ["--kv-transfer-wait-timeout"] = FlagArity.One,
        ["--max-num-seqs"] = FlagArity.One,
        ["--time-factor-under-load"] = FlagArity.One,
        ["--kv-cache-size"] = FlagArity.One,
        ["--failure-injection-rate"] = FlagArity.One,
        ["--failure-types"] = FlagArity.Many,
        ["--fault-added-latency"] = FlagArity.One,
        ["--fault-abort-after-tokens"] = FlagArity.One,
        ["--fault-error-after-tokens"] = FlagArity.One,
        ["--fault-slow-start"] = FlagArity.One,
        ["--fault-unhealthy"] = FlagArity.None,
    };

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
            if (IgnoredVllmFlags.ContainsKey(flag))
            {
                logMessages.Add($"Ignoring GPU-only vLLM flag {flag} {string.Join(' ', parsed.Values(flag))}".TrimEnd());
            }
            else if (!HonouredFlags.ContainsKey(flag))
            {
                logMessages.Add($"Ignoring unknown flag {flag} {string.Join(' ', parsed.Values(flag))}".TrimEnd());
            }
        }

        var model = Single(parsed, "--model") ?? parsed.PositionalModel
            ?? throw new SimulatorArgumentException("model_tag", "a model is required (positional or --model)");
        var served = parsed.Values("--served-model-name").Where(v => !string.IsNullOrWhiteSpace(v)).Select(v => v!).ToArray();
        if (parsed.Has("--served-model-name") && served.Length == 0)
        {
            throw new SimulatorArgumentException("--served-model-name", "expected at least one name");
        }

        var timing = new TimingOptions();
        timing = timing with
        {
            TimeToFirstTokenMs = Double(parsed, "--time-to-first-token", timing.TimeToFirstTokenMs, min: 0),
            PrefillTimePerTokenMs = Double(parsed, "--prefill-time-per-token", timing.PrefillTimePerTokenMs, min: 0),
            InterTokenLatencyMs = Double(parsed, "--inter-token-latency", timing.InterTokenLatencyMs, min: 0),
            KvCacheTransferLatencyMs = Double(parsed, "--kv-cache-transfer-latency", timing.KvCacheTransferLatencyMs, min: 0),
            KvCacheTransferTimePerTokenMs = Double(parsed, "--kv-cache-transfer-time-per-token", timing.KvCacheTransferTimePerTokenMs, min: 0),
            KvTransferWaitTimeoutMs = Double(parsed, "--kv-transfer-wait-timeout", timing.KvTransferWaitTimeoutMs, min: 0),
            MaxNumSeqs = Int(parsed, "--max-num-seqs", timing.MaxNumSeqs, min: 1),
            TimeFactorUnderLoad = Double(parsed, "--time-factor-under-load", timing.TimeFactorUnderLoad, min: 1),
            KvCacheSizeBlocks = Int(parsed, "--kv-cache-size", timing.KvCacheSizeBlocks, min: 1),
        };

        var faults = new FaultOptions
        {
            FailureInjectionRate = Double(parsed, "--failure-injection-rate", 0, min: 0, max: 100),
            FailureTypes = FailureTypes(parsed),
            AddedLatencyMs = Double(parsed, "--fault-added-latency", 0, min: 0),
            AbortAfterTokens = Int(parsed, "--fault-abort-after-tokens", 0, min: 0),
            ErrorAfterTokens = Int(parsed, "--fault-error-after-tokens", 0, min: 0),
            SlowStartSeconds = Double(parsed, "--fault-slow-start", 0, min: 0),
            Unhealthy = Switch(parsed, "--fault-unhealthy"),
        };

        return new SimulatorOptions
        {
            Model = model,
            ServedModelNames = served,
            Host = Single(parsed, "--host") is { Length: > 0 } host ? host : "0.0.0.0",
            Port = Int(parsed, "--port", 8000, min: 0, max: 65535),
            MaxModelLen = Int(parsed, "--max-model-len", 4096, min: 1),
            ApiKey = Single(parsed, "--api-key"),
            EnableRequestIdHeaders = Switch(parsed, "--enable-request-id-headers"),
            OtlpTracesEndpoint = Single(parsed, "--otlp-traces-endpoint"),
            BlockSize = Int(parsed, "--block-size", 16, min: 1),
            Seed = Long(parsed, "--seed", 0),
            InstanceName = Single(parsed, "--instance-name"),
            KvTransfer = KvTransfer(parsed),
            Timing = timing,
            Faults = faults,
        };
    }

    private static FlagArity ArityOf(string flag) =>
        HonouredFlags.TryGetValue(flag, out var arity) || IgnoredVllmFlags.TryGetValue(flag, out arity) ? arity : FlagArity.One;

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
        var types = parsed.Values("--failure-types")
            .SelectMany(v => (v ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .ToArray();
        foreach (var type in types)
        {
            if (!FaultOptions.KnownFailureTypes.Contains(type))
            {
                throw new SimulatorArgumentException(
                    "--failure-types",
                    $"invalid choice: '{type}' (choose from {string.Join(", ", FaultOptions.KnownFailureTypes)})");
            }
        }

        return types;
    }

    private static KvTransferConfig? KvTransfer(ParsedArguments parsed)
    {
        const string Flag = "--kv-transfer-config";
        var json = Single(parsed, Flag);
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
            throw new SimulatorArgumentException(Flag, $"invalid JSON: {ex.Message}", ex);
        }

        // vLLM's KVTransferConfig.__post_init__ checks these two.
        if (config.KvRole is not null && !KvRoles.All.Contains(config.KvRole))
        {
            throw new SimulatorArgumentException(Flag, $"Unsupported kv_role: {config.KvRole}. Supported roles are {string.Join(", ", KvRoles.All)}");
        }

        if (config.KvConnector is not null && config.KvRole is null)
        {
            throw new SimulatorArgumentException(Flag, "Please specify kv_role when kv_connector is set, supported roles are " + string.Join(", ", KvRoles.All));
        }

        if (config.KvConnector is not null && !ConnectorCatalog.IsKnown(config.KvConnector))
        {
            throw new SimulatorArgumentException(Flag, $"Unsupported connector type {config.KvConnector}; the simulator supports {string.Join(", ", ConnectorCatalog.Names)}");
        }

        return config;
    }
}
