using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace PdApp.Hosting.Topology;

/// <summary>Reads the <c>Pd</c> section: the recipe's defaults first, then every configured key over them, then validation.</summary>
public static class PdOptionsLoader
{
    /// <summary>Binds and validates the <c>Pd</c> section of <paramref name="configuration"/>.</summary>
    /// <param name="configuration">The app host's configuration (appsettings.json, environment, command line).</param>
    /// <returns>Valid options.</returns>
    /// <exception cref="OptionsValidationException">The section is invalid; the message names each offending setting.</exception>
    public static PdOptions Load(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var section = configuration.GetSection(PdOptions.SectionName);
        PdOptions options;
        try
        {
            options = PdRecipes.Create(section[nameof(PdOptions.Recipe)] ?? PdRecipes.Default);
            section.Bind(options);
            BindInstancesByIndex(section, nameof(PdOptions.Prefill), options.Prefill);
            BindInstancesByIndex(section, nameof(PdOptions.Decode), options.Decode);
            options.KvEvents.ProxyUsesKvCache = PdKvEventsOptions.ProxyRoutesOnKvCache(section);
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException)
        {
            // The binder names the key it could not convert, e.g. "Failed to convert configuration value at 'Pd:Backend'".
            throw new OptionsValidationException(PdOptions.SectionName, typeof(PdOptions), [ex.Message]);
        }

        var result = new PdOptionsValidator().Validate(Options.DefaultName, options);
        if (result.Failed)
        {
            throw new OptionsValidationException(PdOptions.SectionName, typeof(PdOptions), result.Failures);
        }

        return options;
    }

    /// <summary>
    /// Binds <c>Pd:{Role}:Instances:{i}</c> by its index. The list binder compacts sparse keys, so
    /// <c>Pd:Decode:Instances:1:GpuIds</c> alone would land on instance 0; here it lands on instance 1.
    /// </summary>
    private static void BindInstancesByIndex(IConfigurationSection pd, string role, PdInstanceGroupOptions group)
    {
        var instancesSection = pd.GetSection($"{role}:{nameof(PdInstanceGroupOptions.Instances)}");
        var byIndex = new SortedDictionary<int, IConfigurationSection>();
        foreach (var child in instancesSection.GetChildren())
        {
            if (!int.TryParse(child.Key, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var index))
            {
                throw new InvalidOperationException($"{child.Path} is not an instance index: use {instancesSection.Path}:0, :1, ...");
            }

            byIndex[index] = child;
        }

        if (byIndex.Count == 0)
        {
            return;
        }

        var instances = new List<PdInstanceOptions>();
        for (var i = 0; i <= byIndex.Keys.Max(); i++)
        {
            var instance = new PdInstanceOptions();
            if (byIndex.TryGetValue(i, out var child))
            {
                child.Bind(instance);
            }

            instances.Add(instance);
        }

        group.Instances = instances;
    }
}
