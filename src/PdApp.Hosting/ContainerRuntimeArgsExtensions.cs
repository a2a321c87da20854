using Aspire.Hosting.ApplicationModel;

namespace Aspire.Hosting;

/// <summary>Reads the <c>docker run</c> options a container resource was given.</summary>
public static class ContainerRuntimeArgsExtensions
{
    /// <summary>
    /// Evaluates every <see cref="ContainerRuntimeArgsCallbackAnnotation"/> of <paramref name="resource"/>, in
    /// order, as DCP does before starting it (compose and Kubernetes writers need the same options).
    /// </summary>
    /// <param name="resource">The container.</param>
    /// <param name="cancellationToken">Cancellation.</param>
    /// <returns>The options, each flag and value as separate items.</returns>
    public static async Task<IReadOnlyList<string>> GetContainerRuntimeArgsAsync(this ContainerResource resource, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(resource);
        var args = new List<object>();
        foreach (var annotation in resource.Annotations.OfType<ContainerRuntimeArgsCallbackAnnotation>())
        {
            await annotation.Callback(new ContainerRuntimeArgsCallbackContext(args, cancellationToken)).ConfigureAwait(false);
        }

        var result = new List<string>(args.Count);
        foreach (var arg in args)
        {
            result.Add(arg switch
            {
                string s => s,
                IValueProvider provider => await provider.GetValueAsync(cancellationToken).ConfigureAwait(false) ?? string.Empty,
                _ => Convert.ToString(arg, System.Globalization.CultureInfo.InvariantCulture) ?? string.Empty,
            });
        }

        return result;
    }
}
