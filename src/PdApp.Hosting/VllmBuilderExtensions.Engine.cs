using Aspire.Hosting.ApplicationModel;
using PdApp.Hosting;

namespace Aspire.Hosting;

// vLLM engine arguments: model, lengths, parallelism, API key.
public static partial class VllmBuilderExtensions
{
    /// <summary>Sets the model: a path inside the container (e.g. <c>/data/dp7b/</c>) or a Hugging Face id.</summary>
    /// <param name="builder">The vLLM resource builder.</param>
    /// <param name="model">The model.</param>
    /// <returns>The resource builder.</returns>
    public static IResourceBuilder<VllmResource> WithModel(this IResourceBuilder<VllmResource> builder, string model)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(model);
        builder.Resource.Arguments.Model = model;
        return builder;
    }

    /// <summary>Sets <c>--served-model-name</c>, the model name clients send.</summary>
    /// <param name="builder">The vLLM resource builder.</param>
    /// <param name="servedModelName">The name.</param>
    /// <returns>The resource builder.</returns>
    public static IResourceBuilder<VllmResource> WithServedModelName(this IResourceBuilder<VllmResource> builder, string servedModelName)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(servedModelName);
        builder.Resource.Arguments.ServedModelName = servedModelName;
        return builder;
    }

    /// <summary>Sets <c>--max-model-len</c>, the longest prompt plus output the engine accepts.</summary>
    /// <param name="builder">The vLLM resource builder.</param>
    /// <param name="maxModelLen">Tokens, at least 1.</param>
    /// <returns>The resource builder.</returns>
    public static IResourceBuilder<VllmResource> WithMaxModelLen(this IResourceBuilder<VllmResource> builder, int maxModelLen)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxModelLen);
        builder.Resource.Arguments.MaxModelLen = maxModelLen;
        return builder;
    }

    /// <summary>Sets <c>--gpu-memory-utilization</c>, the fraction of GPU memory vLLM may take.</summary>
    /// <param name="builder">The vLLM resource builder.</param>
    /// <param name="fraction">A value in (0, 1].</param>
    /// <returns>The resource builder.</returns>
    public static IResourceBuilder<VllmResource> WithGpuMemoryUtilization(this IResourceBuilder<VllmResource> builder, double fraction)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (!(fraction > 0 && fraction <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(fraction), fraction, "The GPU memory utilisation must be in (0, 1].");
        }

        builder.Resource.Arguments.GpuMemoryUtilization = fraction;
        return builder;
    }

    /// <summary>Sets <c>--tensor-parallel-size</c>: GPUs one model replica is split across.</summary>
    /// <param name="builder">The vLLM resource builder.</param>
    /// <param name="size">At least 1.</param>
    /// <returns>The resource builder.</returns>
    public static IResourceBuilder<VllmResource> WithTensorParallelSize(this IResourceBuilder<VllmResource> builder, int size)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(size);
        builder.Resource.Arguments.TensorParallelSize = size;
        return builder;
    }

    /// <summary>Sets <c>--pipeline-parallel-size</c>: pipeline stages one model replica is split across.</summary>
    /// <param name="builder">The vLLM resource builder.</param>
    /// <param name="size">At least 1.</param>
    /// <returns>The resource builder.</returns>
    public static IResourceBuilder<VllmResource> WithPipelineParallelSize(this IResourceBuilder<VllmResource> builder, int size)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(size);
        builder.Resource.Arguments.PipelineParallelSize = size;
        return builder;
    }

    /// <summary>Passes <c>--trust-remote-code</c>, letting the model's own Python code run (DeepSeek distills need it).</summary>
    /// <param name="builder">The vLLM resource builder.</param>
    /// <param name="trust">Whether to pass the flag.</param>
    /// <returns>The resource builder.</returns>
    public static IResourceBuilder<VllmResource> WithTrustRemoteCode(this IResourceBuilder<VllmResource> builder, bool trust = true)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Resource.Arguments.TrustRemoteCode = trust;
        return builder;
    }

    /// <summary>Appends engine arguments verbatim after the ones this integration renders.</summary>
    /// <param name="builder">The vLLM resource builder.</param>
    /// <param name="args">The arguments, e.g. <c>--enforce-eager</c>.</param>
    /// <returns>The resource builder.</returns>
    public static IResourceBuilder<VllmResource> WithExtraArgs(this IResourceBuilder<VllmResource> builder, params string[] args)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(args);
        foreach (var arg in args)
        {
            ArgumentNullException.ThrowIfNull(arg, nameof(args));
            builder.Resource.Arguments.ExtraArgs.Add(arg);
        }

        return builder;
    }

    /// <summary>Requires clients to send <c>Authorization: Bearer &lt;key&gt;</c> (vLLM <c>--api-key</c>), from a secret parameter.</summary>
    /// <param name="builder">The vLLM resource builder.</param>
    /// <param name="apiKey">The secret parameter.</param>
    /// <returns>The resource builder.</returns>
    public static IResourceBuilder<VllmResource> WithApiKey(this IResourceBuilder<VllmResource> builder, IResourceBuilder<ParameterResource> apiKey)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(apiKey);
        builder.Resource.Arguments.ApiKey = apiKey.Resource;
        return builder;
    }
}
