using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;

namespace PdApp.Hosting.Topology;

/// <summary>
/// The app host's model download (<c>Pd:ModelDownload</c>): one container, on the engines' image with the same
/// <c>/data</c> mount and Hugging Face cache, that the vLLM engines wait for (<c>WaitForCompletion</c>). A
/// failure (offline, gated model) stops the engines from starting and its log says what to do.
/// </summary>
public static class PdModelDownload
{
    /// <summary>The resource name.</summary>
    public const string ResourceName = "model-download";

    /// <summary>The folder the model is downloaded into (<c>Pd:Model</c> when it is a path), or null for the Hugging Face cache.</summary>
    /// <param name="options">The options.</param>
    public static string? TargetDirectory(PdOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.Model.StartsWith('/') ? options.Model : null;
    }

    /// <summary>The hub id to download: <c>Pd:ModelDownload:Repository</c>, else <c>Pd:Model</c> when it is one.</summary>
    /// <param name="options">The options.</param>
    public static string? Repository(PdOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.ModelDownload.Repository is { Length: > 0 } repository
            ? repository
            : TargetDirectory(options) is null ? options.Model : null;
    }

    /// <summary>Adds the download container when <c>Pd:ModelDownload:Source</c> asks for one; null otherwise.</summary>
    /// <param name="builder">The application builder.</param>
    /// <param name="options">The validated options.</param>
    /// <param name="hfToken">The <c>hf-token</c> parameter for gated models, if used.</param>
    /// <returns>The container, or null.</returns>
    internal static IResourceBuilder<ContainerResource>? TryAdd(
        IDistributedApplicationBuilder builder, PdOptions options, IResourceBuilder<ParameterResource>? hfToken)
    {
        if (options.ModelDownload.Source == PdModelDownloadSource.None || Repository(options) is not { } repository)
        {
            return null;
        }

        ImageReference.TryParse(PdImages.For(options), out var image);
        var target = TargetDirectory(options);
        var download = builder.AddContainer(ResourceName, image!.Image, image.Tag)
            .WithImageRegistry(image.Registry)
            .WithBindMount(options.DataPath, VllmResource.DataMountPath);
        if (options.ModelDownload.Source == PdModelDownloadSource.ModelScope)
        {
            download.WithEntrypoint("sh").WithArgs([.. ModelDownloadCommand.ModelScopeArguments(repository, target!)]);
        }
        else
        {
            download.WithEntrypoint(ModelDownloadCommand.Executable).WithArgs([.. ModelDownloadCommand.Arguments(repository, target)]);
        }

        if (options.HuggingFaceCachePath is { Length: > 0 } cache)
        {
            download.WithBindMount(cache, VllmResource.HuggingFaceCachePath);
        }

        if (hfToken is not null)
        {
            download.WithEnvironment("HF_TOKEN", hfToken);
        }

        foreach (var (name, variable) in options.Environment)
        {
            download.WithEnvironment(name, variable);
        }

        return download;
    }
}
