namespace PdApp.Bench.Reporting;

/// <summary>A table of plain-text cells: the first column left-aligned, the others right-aligned (numbers).</summary>
/// <param name="Headers">Column headers.</param>
/// <param name="Rows">Rows, each with one cell per header.</param>
internal sealed record TextTable(IReadOnlyList<string> Headers, IReadOnlyList<IReadOnlyList<string>> Rows)
{
    /// <summary>The table as Markdown lines, every column padded to its widest cell (a <c>|</c> in a cell is escaped).</summary>
    public IEnumerable<string> ToMarkdown()
    {
        var headers = Headers.Select(Escape).ToArray();
        var rows = Rows.Select(row => row.Select(Escape).ToArray()).ToArray();
        var widths = headers.Select((header, column) => rows.Select(row => row[column].Length).Append(header.Length).Append(3).Max()).ToArray();
        yield return Line(headers, widths);
        yield return "|" + string.Join("|", widths.Select((width, column) => column == 0 ? $" {new string('-', width)} " : $" {new string('-', width - 1)}: ")) + "|";
        foreach (var row in rows)
        {
            yield return Line(row, widths);
        }
    }

    private static string Escape(string cell) => cell.Replace("|", "\\|", StringComparison.Ordinal);

    private static string Line(IReadOnlyList<string> cells, int[] widths) =>
        "|" + string.Join("|", cells.Select((cell, column) => " " + (column == 0 ? cell.PadRight(widths[column]) : cell.PadLeft(widths[column])) + " ")) + "|";
}
