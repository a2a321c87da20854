using System.Buffers;
using System.Text.Json;
using PdApp.Proxy.Buffers;

namespace PdApp.Proxy.Pipeline.Requests;

/// <summary>
/// Copies a JSON object to new bytes with some top-level fields replaced, added or removed,
/// streaming each untouched field's value through <see cref="Utf8JsonWriter"/> from the parsed
/// document: one pass, no object model of the body is built.
/// </summary>
public sealed class JsonBodyRewriter
{
    // A prefill body's rewrite makes 6-10 edits: sized for them, the list is not regrown per request.
    private readonly List<(string Name, Action<Utf8JsonWriter>? Write, bool OnlyIfPresent)> _edits = new(capacity: 10);

    /// <summary>Sets <paramref name="name"/> to a value written by <paramref name="write"/>, adding it when absent.</summary>
    /// <param name="name">The field.</param>
    /// <param name="write">Writes the value.</param>
    /// <returns>This rewriter.</returns>
    public JsonBodyRewriter Set(string name, Action<Utf8JsonWriter> write) => Add(name, write, onlyIfPresent: false);

    /// <summary>Sets <paramref name="name"/> only when the body already has it.</summary>
    /// <param name="name">The field.</param>
    /// <param name="write">Writes the value.</param>
    /// <returns>This rewriter.</returns>
    public JsonBodyRewriter Replace(string name, Action<Utf8JsonWriter> write) => Add(name, write, onlyIfPresent: true);

    /// <summary>Removes <paramref name="name"/>.</summary>
    /// <param name="name">The field.</param>
    /// <returns>This rewriter.</returns>
    public JsonBodyRewriter Remove(string name) => Add(name, null, onlyIfPresent: true);

    /// <summary>Writes <paramref name="source"/> with the edits applied.</summary>
    /// <param name="source">A JSON object.</param>
    /// <returns>The new body.</returns>
    public byte[] Apply(JsonElement source)
    {
        if (source.ValueKind != JsonValueKind.Object)
        {
            throw new ArgumentException("Only JSON objects can be rewritten.", nameof(source));
        }

        using var buffer = new PooledByteBuffer(4096);
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { SkipValidation = true }))
        {
            Span<bool> applied = stackalloc bool[_edits.Count];
            writer.WriteStartObject();
            foreach (var property in source.EnumerateObject())
            {
                var index = IndexOf(property);
                if (index < 0)
                {
                    property.WriteTo(writer);
                    continue;
                }

                // A duplicated key is written once, like the last-wins parsers upstream read it.
                if (applied[index])
                {
                    continue;
                }

                applied[index] = true;
                if (_edits[index].Write is { } write)
                {
                    writer.WritePropertyName(_edits[index].Name);
                    write(writer);
                }
            }

            for (var i = 0; i < _edits.Count; i++)
            {
                if (!applied[i] && !_edits[i].OnlyIfPresent && _edits[i].Write is { } write)
                {
                    writer.WritePropertyName(_edits[i].Name);
                    write(writer);
                }
            }

            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private JsonBodyRewriter Add(string name, Action<Utf8JsonWriter>? write, bool onlyIfPresent)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var index = IndexOf(name);
        if (index >= 0)
        {
            _edits[index] = (name, write, onlyIfPresent);
        }
        else
        {
            _edits.Add((name, write, onlyIfPresent));
        }

        return this;
    }

    // Compares the property's UTF-8 name in place: no string per property of every body.
    private int IndexOf(JsonProperty property)
    {
        for (var i = 0; i < _edits.Count; i++)
        {
            if (property.NameEquals(_edits[i].Name))
            {
                return i;
            }
        }

        return -1;
    }

    private int IndexOf(string name)
    {
        for (var i = 0; i < _edits.Count; i++)
        {
            if (string.Equals(_edits[i].Name, name, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }
}
