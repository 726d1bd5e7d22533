using System.Runtime.CompilerServices;
using System.Text.Json;
using Ranking.Domain;

namespace Ranking.Import;

public enum RecordKind
{
    Items,
    Users,
    Events,
}

public enum RecordFormat
{
    /// <summary>Comma-separated with a header row of snake_case column names.</summary>
    Csv,

    /// <summary>One JSON object per line, camelCase property names (the HTTP contract).</summary>
    JsonLines,
}

/// <summary>
/// A CSV or JSON Lines file (or any text) of one kind of record: the documented generic import format
/// (docs/IMPORT.md). Parse errors are reported with their line numbers; nothing is thrown for a bad row.
/// </summary>
public sealed class RecordFileSource(string name, Func<TextReader> open, RecordKind kind, RecordFormat format, int chunkSize = 10_000) : IImportSource
{
    /// <summary>A file; the format comes from the extension (.csv, .jsonl / .ndjson) unless given.</summary>
    public static RecordFileSource FromFile(string path, RecordKind kind, RecordFormat? format = null) =>
        new(Path.GetFileName(path), () => new StreamReader(path), kind, format ?? FormatOf(path));

    public static RecordFormat FormatOf(string path) => Path.GetExtension(path).ToLowerInvariant() switch
    {
        ".csv" => RecordFormat.Csv,
        ".jsonl" or ".ndjson" or ".json" => RecordFormat.JsonLines,
        var ext => throw new ArgumentException($"Cannot tell the format of '{path}' from '{ext}': use .csv or .jsonl, or name the format."),
    };

    public static readonly IReadOnlyDictionary<RecordKind, string[]> CsvColumns = new Dictionary<RecordKind, string[]>
    {
        [RecordKind.Items] = ["id", "title", "description", "category", "brand", "price", "cost", "in_stock", "created_at", "attributes"],
        [RecordKind.Users] = ["id", "attributes", "consent"],
        [RecordKind.Events] = ["event_id", "user_id", "item_id", "type", "timestamp", "surface", "query", "context_item_id", "price", "quantity", "session_id", "value"],
    };

    public string Name => name;

    public async IAsyncEnumerable<ImportChunk> ReadAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        using var reader = open();
        var chunks = format == RecordFormat.Csv ? ReadCsv(reader) : ReadJsonLines(reader);
        foreach (var chunk in chunks)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return chunk;
            await Task.Yield();
        }
    }

    private IEnumerable<ImportChunk> ReadJsonLines(TextReader reader)
    {
        var chunk = new ImportChunk();
        long line = 0;
        while (reader.ReadLine() is { } text)
        {
            line++;
            if (string.IsNullOrWhiteSpace(text))
            {
                continue;
            }

            try
            {
                switch (kind)
                {
                    case RecordKind.Items:
                        chunk.Items.Add(new(line, Deserialize(text, ImportJsonContext.Default.ItemRecord).ToDomain()));
                        break;
                    case RecordKind.Users:
                        chunk.Users.Add(new(line, Deserialize(text, ImportJsonContext.Default.UserRecord).ToDomain()));
                        break;
                    default:
                        chunk.Events.Add(new(line, Deserialize(text, ImportJsonContext.Default.EventRecord).ToDomain()));
                        break;
                }
            }
            catch (JsonException ex)
            {
                chunk.Errors.Add(new RowError(line, FieldOf(ex), $"not valid JSON for {KindName}: {ex.Message}"));
            }

            if (chunk.RecordCount + chunk.Errors.Count >= chunkSize)
            {
                yield return chunk;
                chunk = new ImportChunk();
            }
        }

        yield return chunk;
    }

    private static T Deserialize<T>(string text, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> info) =>
        JsonSerializer.Deserialize(text, info) ?? throw new JsonException("null is not a record.");

    // "$.price" -> "price"
    private static string FieldOf(JsonException ex) => ex.Path is { Length: > 2 } p && p.StartsWith("$.", StringComparison.Ordinal) ? p[2..] : "(row)";

    private string KindName => kind.ToString().ToLowerInvariant().TrimEnd('s');

    private IEnumerable<ImportChunk> ReadCsv(TextReader reader)
    {
        var csv = new CsvReader(reader);
        var fields = new List<string>();
        var chunk = new ImportChunk();
        long line = 1;
        bool hasHeader;
        try
        {
            hasHeader = csv.TryRead(fields, out line);
        }
        catch (FormatException ex)
        {
            chunk.Errors.Add(new RowError(1, "(header)", ex.Message));
            hasHeader = false;
        }

        if (!hasHeader)
        {
            yield return chunk;
            yield break;
        }

        var known = CsvColumns[kind];
        var index = new int[known.Length];
        Array.Fill(index, -1);
        for (var c = 0; c < fields.Count; c++)
        {
            var header = Snake(fields[c].Trim());
            var k = Array.IndexOf(known, header);
            if (k < 0)
            {
                chunk.Errors.Add(new RowError(line, fields[c], $"unknown column; the {KindName} columns are {string.Join(", ", known)}."));
            }
            else
            {
                index[k] = c;
            }
        }

        var cellErrors = new List<(string Field, string Message)>();
        while (true)
        {
            if (!csv.TryReadOrReport(fields, chunk.Errors, out line))
            {
                break;
            }

            string? Cell(int k) => index[k] >= 0 && index[k] < fields.Count ? fields[index[k]] : null;
            cellErrors.Clear();
            if (fields.Count > 1 && fields.Count != CountColumns(index))
            {
                cellErrors.Add(("(row)", $"has {fields.Count} fields; the header has {CountColumns(index)}."));
            }

            switch (kind)
            {
                case RecordKind.Items:
                    var item = new ItemRecord
                    {
                        Id = Cell(0), Title = Cell(1), Description = Cell(2), Category = Cell(3), Brand = Cell(4),
                        Price = CsvValues.Double(Cell(5), "price", cellErrors),
                        Cost = CsvValues.Double(Cell(6), "cost", cellErrors),
                        InStock = CsvValues.Bool(Cell(7), "in_stock", cellErrors),
                        CreatedAt = CsvValues.Timestamp(Cell(8), "created_at", cellErrors),
                        Attributes = CsvValues.Map(Cell(9), "attributes", cellErrors),
                    };
                    if (cellErrors.Count == 0)
                    {
                        chunk.Items.Add(new(line, item.ToDomain()));
                    }

                    break;
                case RecordKind.Users:
                    var user = new UserRecord
                    {
                        Id = Cell(0),
                        Attributes = CsvValues.Map(Cell(1), "attributes", cellErrors),
                        Consent = ParseConsent(Cell(2)),
                    };
                    if (cellErrors.Count == 0)
                    {
                        chunk.Users.Add(new(line, user.ToDomain()));
                    }

                    break;
                default:
                    var e = new EventRecord
                    {
                        EventId = Cell(0), UserId = Cell(1), ItemId = Cell(2), Type = Cell(3),
                        Timestamp = CsvValues.Timestamp(Cell(4), "timestamp", cellErrors),
                        Surface = Cell(5), Query = Cell(6), ContextItemId = Cell(7),
                        Price = CsvValues.Double(Cell(8), "price", cellErrors),
                        Quantity = CsvValues.Int(Cell(9), "quantity", cellErrors),
                        SessionId = Cell(10),
                        Value = CsvValues.Double(Cell(11), "value", cellErrors),
                    };
                    if (cellErrors.Count == 0)
                    {
                        chunk.Events.Add(new(line, e.ToDomain()));
                    }

                    break;
            }

            foreach (var (field, message) in cellErrors)
            {
                chunk.Errors.Add(new RowError(line, field, message));
            }

            if (chunk.RecordCount + chunk.Errors.Count >= chunkSize)
            {
                yield return chunk;
                chunk = new ImportChunk();
            }
        }

        yield return chunk;
    }

    private static int CountColumns(int[] index)
    {
        var max = -1;
        foreach (var i in index)
        {
            max = Math.Max(max, i);
        }

        return max + 1;
    }

    // consent: "email;push" lists the channels with consent.
    private static Dictionary<string, bool>? ParseConsent(string? cell) =>
        string.IsNullOrWhiteSpace(cell)
            ? null
            : cell.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct().ToDictionary(c => c, _ => true);

    // eventId / EventId / event_id -> event_id
    private static string Snake(string header)
    {
        var sb = new System.Text.StringBuilder(header.Length + 4);
        for (var i = 0; i < header.Length; i++)
        {
            var c = header[i];
            if (char.IsUpper(c))
            {
                if (i > 0 && header[i - 1] != '_')
                {
                    sb.Append('_');
                }

                sb.Append(char.ToLowerInvariant(c));
            }
            else
            {
                sb.Append(c);
            }
        }

        return sb.ToString();
    }
}
