namespace PdApp.Bench.Reporting;

/// <summary>How result tables are drawn.</summary>
internal enum TableFormat
{
    /// <summary>Spectre.Console tables with borders, for an interactive terminal.</summary>
    Terminal,

    /// <summary>
    /// Markdown pipe tables with padded columns, written straight to the output without wrapping,
    /// for output that is redirected to a file or a pipe (a log, <c>tee</c>, a CI job).
    /// </summary>
    Markdown,
}
