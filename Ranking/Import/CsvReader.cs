using System.Text;

namespace Ranking.Import;

/// <summary>
/// A small RFC 4180 reader: comma-separated fields, double quotes around fields that hold commas, quotes ("" inside)
/// or line breaks. Reports the line each record starts on.
/// </summary>
public sealed class CsvReader(TextReader reader, char separator = ',')
{
    private readonly StringBuilder _field = new();
    private long _line;
    private long _recordStart;

    /// <summary>
    /// Like <see cref="TryRead"/>, for readers that must not throw on bad input: a quoted field that is never
    /// closed becomes a row error at the line its record starts on, and ends the read (false).
    /// </summary>
    public bool TryReadOrReport(List<string> fields, List<RowError> errors, out long line)
    {
        try
        {
            return TryRead(fields, out line);
        }
        catch (FormatException ex)
        {
            line = _recordStart;
            errors.Add(new RowError(line, "(row)", ex.Message));
            return false;
        }
    }

    /// <summary>The next record, or false at the end. <paramref name="line"/> is the 1-based line it starts on.</summary>
    /// <exception cref="FormatException">A quoted field is never closed.</exception>
    public bool TryRead(List<string> fields, out long line)
    {
        fields.Clear();
        var text = reader.ReadLine();
        while (text is { Length: 0 })
        {
            _line++;
            text = reader.ReadLine();
        }

        if (text is null)
        {
            line = _line;
            return false;
        }

        _line++;
        line = _line;
        _recordStart = line;
        _field.Clear();
        var quoted = false;
        var i = 0;
        while (true)
        {
            if (i >= text.Length)
            {
                if (!quoted)
                {
                    fields.Add(_field.ToString());
                    return true;
                }

                // A line break inside quotes belongs to the field.
                var next = reader.ReadLine() ?? throw new FormatException($"line {line}: a quoted field is not closed.");
                _line++;
                _field.Append('\n');
                text = next;
                i = 0;
                continue;
            }

            var c = text[i];
            if (quoted)
            {
                if (c == '"')
                {
                    if (i + 1 < text.Length && text[i + 1] == '"')
                    {
                        _field.Append('"');
                        i += 2;
                        continue;
                    }

                    quoted = false;
                }
                else
                {
                    _field.Append(c);
                }
            }
            else if (c == '"' && _field.Length == 0)
            {
                quoted = true;
            }
            else if (c == separator)
            {
                fields.Add(_field.ToString());
                _field.Clear();
            }
            else
            {
                _field.Append(c);
            }

            i++;
        }
    }

    /// <summary>Quotes a field when it needs it.</summary>
    public static string Escape(string? value, char separator = ',')
    {
        if (string.IsNullOrEmpty(value))
        {
            return "";
        }

        return value.IndexOfAny([separator, '"', '\n', '\r']) >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;
    }
}
