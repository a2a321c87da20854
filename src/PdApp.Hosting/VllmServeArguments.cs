using System.Globalization;
using Aspire.Hosting.ApplicationModel;
using PdApp.Protocol.Vllm;

namespace PdApp.Hosting;

/// <summary>
/// The engine arguments of one vLLM server (vllm/engine/arg_utils.py, vllm/entrypoints/openai/cli_args.py),
/// rendered in one place so a container and a simulator given the same settings get the same command line.
/// The flags are <see cref="VllmEngineArguments"/>, which the simulator parses too.
/// </summary>
public sealed class VllmServeArguments
{
    /// <summary>Model path inside the container (e.g. <c>/data/dp7b/</c>) or a Hugging Face id.</summary>
    public string? Model { get; set; }

    /// <summary><c>--served-model-name</c>: the name clients use; vLLM uses the model path when absent.</summary>
    public string? ServedModelName { get; set; }

    /// <summary><c>--port</c>: the port the server listens on inside its container.</summary>
    public int Port { get; set; }

    /// <summary><c>--host</c>: the address to bind; vLLM binds every interface when absent.</summary>
    public string? Host { get; set; }

    /// <summary><c>--max-model-len</c>.</summary>
    public int? MaxModelLen { get; set; }

    /// <summary><c>--gpu-memory-utilization</c>, a fraction in (0, 1].</summary>
    public double? GpuMemoryUtilization { get; set; }

    /// <summary><c>--tensor-parallel-size</c>.</summary>
    public int? TensorParallelSize { get; set; }

    /// <summary><c>--pipeline-parallel-size</c>.</summary>
    public int? PipelineParallelSize { get; set; }

    /// <summary><c>--trust-remote-code</c>.</summary>
    public bool TrustRemoteCode { get; set; }

    /// <summary>
    /// <c>--kv-events-config</c> as JSON (<c>PdApp.Protocol.KvEvents.KvEventsConfig</c>): publish the
    /// prefix cache's KV events over ZeroMQ for the proxy's KV-cache-aware routing. When set,
    /// <c>--enable-prefix-caching</c> is rendered too (vLLM v1's default, made explicit).
    /// </summary>
    public string? KvEventsConfigJson { get; set; }

    /// <summary><c>--block-size</c>: tokens per KV block; the engine's default (16) when absent.</summary>
    public int? BlockSize { get; set; }

    /// <summary><c>--prefix-caching-hash-algo</c>: the prefix cache's block hash; the engine's default when absent.</summary>
    public string? PrefixCachingHashAlgo { get; set; }

    /// <summary><c>--kv-transfer-config</c> JSON, from the instance's connector.</summary>
    public string? KvTransferConfigJson { get; set; }

    /// <summary><c>--api-key</c>: a secret parameter, so it never appears as a literal in a manifest.</summary>
    public ParameterResource? ApiKey { get; set; }

    /// <summary>Further arguments appended verbatim.</summary>
    public IList<string> ExtraArgs { get; } = [];

    /// <summary>
    /// The arguments as they follow the executable: <c>serve &lt;model&gt; ...</c> for
    /// <see cref="VllmEntrypoint.VllmServe"/>, <c>-m vllm.entrypoints.openai.api_server --model &lt;model&gt; ...</c>
    /// for <see cref="VllmEntrypoint.OpenAiApiServer"/>; without the leading subcommand when
    /// <paramref name="includeLauncher"/> is false (what the simulator takes).
    /// </summary>
    /// <param name="entrypoint">The image flavour.</param>
    /// <param name="includeLauncher">Whether to start with <c>serve</c> / <c>-m module</c>.</param>
    /// <param name="port">The <c>--port</c> value: the fixed <see cref="Port"/> when null, otherwise e.g. an endpoint's target port.</param>
    /// <returns>Strings and value providers (parameters, endpoint properties) Aspire resolves.</returns>
    /// <exception cref="InvalidOperationException"><see cref="Model"/> is not set.</exception>
    public IReadOnlyList<object> Render(VllmEntrypoint entrypoint, bool includeLauncher = true, object? port = null)
    {
        if (string.IsNullOrWhiteSpace(Model))
        {
            throw new InvalidOperationException("The vLLM model is not set; call WithModel.");
        }

        var args = new List<object>();
        if (entrypoint == VllmEntrypoint.OpenAiApiServer)
        {
            if (includeLauncher)
            {
                args.AddRange(["-m", VllmEngineArguments.ApiServerModule]);
            }

            args.AddRange([VllmEngineArguments.Model.Name, Model]);
        }
        else
        {
            if (includeLauncher)
            {
                args.Add(VllmEngineArguments.ServeCommand);
            }

            // vllm serve takes the model as its positional argument (vllm/entrypoints/cli/serve.py).
            args.Add(Model);
        }

        if (Host is not null)
        {
            args.AddRange([VllmEngineArguments.Host.Name, Host]);
        }

        args.AddRange([VllmEngineArguments.Port.Name, port ?? Port.ToString(CultureInfo.InvariantCulture)]);
        AddIfSet(args, VllmEngineArguments.ServedModelName, ServedModelName);
        AddIfSet(args, VllmEngineArguments.MaxModelLen, MaxModelLen);
        AddIfSet(args, VllmEngineArguments.GpuMemoryUtilization, GpuMemoryUtilization);
        AddIfSet(args, VllmEngineArguments.TensorParallelSize, TensorParallelSize);
        AddIfSet(args, VllmEngineArguments.PipelineParallelSize, PipelineParallelSize);
        if (TrustRemoteCode)
        {
            args.Add(VllmEngineArguments.TrustRemoteCode.Name);
        }

        AddIfSet(args, VllmEngineArguments.KvTransferConfig, KvTransferConfigJson);
        if (KvEventsConfigJson is not null)
        {
            args.Add(VllmEngineArguments.EnablePrefixCaching.Name);
            args.AddRange([VllmEngineArguments.KvEventsConfig.Name, KvEventsConfigJson]);
        }

        AddIfSet(args, VllmEngineArguments.PrefixCachingHashAlgo, PrefixCachingHashAlgo);
        AddIfSet(args, VllmEngineArguments.BlockSize, BlockSize);
        if (ApiKey is not null)
        {
            args.AddRange([VllmEngineArguments.ApiKey.Name, ApiKey]);
        }

        args.AddRange(ExtraArgs);
        return args;
    }

    private static void AddIfSet(List<object> args, VllmFlag flag, string? value)
    {
        if (value is not null)
        {
            args.AddRange([flag.Name, value]);
        }
    }

    private static void AddIfSet(List<object> args, VllmFlag flag, int? value)
    {
        if (value is { } v)
        {
            args.AddRange([flag.Name, v.ToString(CultureInfo.InvariantCulture)]);
        }
    }

    private static void AddIfSet(List<object> args, VllmFlag flag, double? value)
    {
        if (value is { } v)
        {
            args.AddRange([flag.Name, v.ToString("0.###", CultureInfo.InvariantCulture)]);
        }
    }
}
