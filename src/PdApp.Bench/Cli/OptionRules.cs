using System.CommandLine;
using System.CommandLine.Parsing;

namespace PdApp.Bench.Cli;

/// <summary>
/// Range rules attached to single options. System.CommandLine runs an option's validators only
/// when the option was given, but also when its value failed to convert (that failure is already
/// reported), so values are read through <see cref="TryGet"/>.
/// </summary>
internal static class OptionRules
{
    /// <summary>Requires every value of <paramref name="option"/> to be at least <paramref name="minimum"/>.</summary>
    public static void AtLeast(Option<int> option, int minimum) =>
        option.Validators.Add(result =>
        {
            if (TryGet<int>(result, out var value))
            {
                Check(result, value, minimum);
            }
        });

    /// <summary>Requires the value of <paramref name="option"/>, when given, to be at least <paramref name="minimum"/>.</summary>
    public static void AtLeast(Option<int?> option, int minimum) =>
        option.Validators.Add(result =>
        {
            if (TryGet<int?>(result, out var given) && given is { } value)
            {
                Check(result, value, minimum);
            }
        });

    /// <summary>Requires every value of <paramref name="option"/> to be at least <paramref name="minimum"/>.</summary>
    public static void AtLeast(Option<int[]> option, int minimum) =>
        option.Validators.Add(result =>
        {
            foreach (var value in TryGet<int[]>(result, out var values) ? values ?? [] : [])
            {
                Check(result, value, minimum);
            }
        });

    /// <summary>Requires the value to lie in [<paramref name="minimum"/>, <paramref name="maximumExclusive"/>).</summary>
    public static void InRange(Option<double> option, double minimum, double maximumExclusive) =>
        option.Validators.Add(result =>
        {
            if (TryGet<double>(result, out var value) && !(value >= minimum && value < maximumExclusive))
            {
                result.AddError($"{NameUsed(result)}: {value} is outside [{minimum}, {(double.IsPositiveInfinity(maximumExclusive) ? "inf" : maximumExclusive)}).");
            }
        });

    /// <summary>Requires a positive finite number when given.</summary>
    public static void Positive(Option<double?> option) =>
        option.Validators.Add(result =>
        {
            if (TryGet<double?>(result, out var given) && given is { } value && !(value > 0 && double.IsFinite(value)))
            {
                result.AddError($"{NameUsed(result)}: {value} must be a positive number.");
            }
        });

    /// <summary>Requires the file name to end in one of <paramref name="extensions"/>.</summary>
    public static void Extension(Option<FileInfo?> option, params string[] extensions) =>
        option.Validators.Add(result =>
        {
            if (TryGet<FileInfo?>(result, out var file) && file is not null
                && !extensions.Any(extension => file.Extension.Equals(extension, StringComparison.OrdinalIgnoreCase)))
            {
                result.AddError($"{NameUsed(result)}: '{file.Name}' must end in {string.Join(" or ", extensions)}.");
            }
        });

    /// <summary>The spelling the user typed (an alias reads as given), else the option's name.</summary>
    internal static string NameUsed(OptionResult result) => result.IdentifierToken?.Value ?? result.Option.Name;

    private static bool TryGet<T>(OptionResult result, out T? value)
    {
        value = default;
        if (result.Errors.Any())
        {
            return false;
        }

        try
        {
            value = result.GetValueOrDefault<T>();
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    private static void Check(OptionResult result, int value, int minimum)
    {
        if (value < minimum)
        {
            result.AddError($"{NameUsed(result)}: {value} must be {minimum} or more.");
        }
    }
}
