using Spectre.Console;

namespace PdApp.Bench.Reporting;

/// <summary>
/// Where the bench writes its results and messages. On a terminal, through Spectre.Console (colours,
/// bordered tables). Otherwise (<see cref="TableFormat.Markdown"/>) every line goes straight to
/// the output writer, so nothing is wrapped at a guessed console width: tables are Markdown, and
/// long URLs and paths stay on one line.
/// </summary>
internal sealed class ReportConsole
{
    private readonly IAnsiConsole _console;

    /// <summary>Creates the output on <paramref name="console"/>.</summary>
    public ReportConsole(IAnsiConsole console, TableFormat format)
    {
        ArgumentNullException.ThrowIfNull(console);
        _console = console;
        Format = format;
    }

    /// <summary>How tables are drawn.</summary>
    public TableFormat Format { get; }

    /// <summary>Writes a line of plain text.</summary>
    public void Line(string text = "")
    {
        ArgumentNullException.ThrowIfNull(text);
        if (Format == TableFormat.Markdown)
        {
            _console.Profile.Out.Writer.WriteLine(text);
        }
        else
        {
            _console.WriteLine(text);
        }
    }

    /// <summary>Writes a heading line (bold on a terminal).</summary>
    public void Heading(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (Format == TableFormat.Markdown)
        {
            Line(text);
        }
        else
        {
            _console.MarkupLine($"[bold]{Markup.Escape(text)}[/]");
        }
    }

    /// <summary>Writes <c>error: text</c> (red on a terminal).</summary>
    public void Error(string text) => Tagged("error", "red", text);

    /// <summary>Writes <c>warning: text</c> (yellow on a terminal).</summary>
    public void Warning(string text) => Tagged("warning", "yellow", text);

    /// <summary>Writes a table.</summary>
    public void Table(TextTable table)
    {
        ArgumentNullException.ThrowIfNull(table);
        if (Format == TableFormat.Markdown)
        {
            foreach (var line in table.ToMarkdown())
            {
                Line(line);
            }

            return;
        }

        var spectre = new Table().Border(TableBorder.Rounded);
        for (var column = 0; column < table.Headers.Count; column++)
        {
            var header = new TableColumn(Markup.Escape(table.Headers[column]));
            spectre.AddColumn(column == 0 ? header.LeftAligned() : header.RightAligned());
        }

        foreach (var row in table.Rows)
        {
            spectre.AddRow([.. row.Select(Markup.Escape)]);
        }

        _console.Write(spectre);
    }

    private void Tagged(string tag, string colour, string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (Format == TableFormat.Markdown)
        {
            Line($"{tag}: {text}");
        }
        else
        {
            _console.MarkupLine($"[{colour}]{tag}:[/] {Markup.Escape(text)}");
        }
    }
}
