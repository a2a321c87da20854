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
}
