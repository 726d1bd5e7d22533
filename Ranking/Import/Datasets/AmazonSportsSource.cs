using System.Globalization;
using System.Text;
using System.Text.Json;
using Ranking.Domain;

namespace Ranking.Import.Datasets;

/// <summary>
/// Amazon Sports_and_Outdoors 5-core in the S3-Rec format: <c>Sports_and_Outdoors.txt</c> (one line per user:
/// <c>user_id item_1 item_2 ...</c>, items in time order) and <c>Sports_and_Outdoors_item2attributes.json</c>
/// (<c>{"item_id": [attribute ids]}</c>).
/// </summary>
/// <remarks>
/// <para><b>Mapping.</b></para>
/// <list type="bullet">
/// <item><description>Items, one per entry of the attributes file (ids 1..18,357 in the shared copy), in the file's
/// order: title <c>Amazon Sports item {id}</c>, category <c>Sports and Outdoors</c>, attribute <c>attributes</c> =
/// the attribute ids joined by ' '. The data has no titles, prices or brands, and its attribute ids mix category and
/// brand indistinguishably. The attributes file is a single line, so an item's <see cref="Row{T}.Line"/> is the
/// 1-based position of its entry in the JSON object instead.</description></item>
/// <item><description>Users, one per line (<see cref="Row{T}.Line"/> = that line), without attributes.</description></item>
/// <item><description>Events of type <c>order</c> (a 5-core review stands for a purchase), one per item of a
/// sequence, in sequence order; event id <c>amz-{user}-{position}</c>, position 1-based; no quantity, price or
/// surface. <see cref="Row{T}.Line"/> is the user's line, so a rejected event rejects
/// its whole sequence (the line is the unit of a source row).</description></item>
/// </list>
/// <para><b>Synthetic timestamps.</b> The data has none; only the order is real. An event's timestamp is
/// <see cref="SyntheticBase"/> (2014-01-01T00:00Z) plus its 1-based position in the user's sequence in minutes, so
/// every user's events keep their order and stay apart by a minute. Time gaps, hours and days derived from them
/// mean nothing.</para>
/// <para><b>Bad rows.</b> A line with a token that is not a positive whole number yields a <see cref="RowError"/>,
/// and neither its user nor any of its events; an item without an attributes entry would be kept in the events
/// (the catalog need not know an item). The sequences file is read twice per <see cref="ReadAsync"/>: users first,
/// then events.</para>
/// </remarks>
public sealed class AmazonSportsSource : IImportSource
{
    public const string SequencesFile = "Sports_and_Outdoors.txt";
    public const string AttributesFile = "Sports_and_Outdoors_item2attributes.json";
    public const string Category = "Sports and Outdoors";

    private readonly string _folder;
    private readonly int _chunkSize;

    /// <param name="folder">The folder with the two S3-Rec files.</param>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    public AmazonSportsSource(string folder, int chunkSize = DatasetCatalog.DefaultChunkSize)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(chunkSize);
        if (!Directory.Exists(folder))
        {
            throw new DirectoryNotFoundException($"The Amazon Sports folder '{folder}' does not exist.");
        }

        _folder = folder;
        _chunkSize = chunkSize;
    }

    /// <summary>The time of position 0; an event at position p is p minutes later.</summary>
    public static DateTimeOffset SyntheticBase { get; } = new(2014, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public string Name => DatasetCatalog.AmazonSports;

    public IAsyncEnumerable<ImportChunk> ReadAsync(CancellationToken cancellationToken = default) =>
        ChunkBuilder.StreamAsync(ReadChunks(cancellationToken), cancellationToken);

    private IEnumerable<ImportChunk> ReadChunks(CancellationToken cancellationToken)
    {
        var chunks = new ChunkBuilder(_chunkSize);
        var itemErrors = new List<RowError>();
        var items = ReadItems(Path.Combine(_folder, AttributesFile), itemErrors);
        chunks.Current.Errors.AddRange(itemErrors);
        foreach (var item in items)
        {
            chunks.Current.Items.Add(item);
            if (chunks.IsFull)
            {
                yield return chunks.Take();
            }
        }

        var ids = new IdStrings();
        var sequence = new List<int>();
        var sequences = Path.Combine(_folder, SequencesFile);
        using (var reader = FieldText.OpenText(sequences, Encoding.UTF8))
        {
            long line = 0;
            while (reader.ReadLine() is { } text)
            {
                line++;
                if (TryParseSequence(text, line, sequence, chunks.Current.Errors, out var user))
                {
                    chunks.Current.Users.Add(new(line, new User { Id = ids.Of(user) }));
                }

                if (chunks.IsFull)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    yield return chunks.Take();
                }
            }
        }

        using (var reader = FieldText.OpenText(sequences, Encoding.UTF8))
        {
            long line = 0;
            while (reader.ReadLine() is { } text)
            {
                line++;
                if (!TryParseSequence(text, line, sequence, errors: null, out var user))
                {
                    continue;
                }

                var userId = ids.Of(user);
                for (var p = 1; p <= sequence.Count; p++)
                {
                    chunks.Current.Events.Add(new(line, new UserEvent
                    {
                        EventId = string.Create(CultureInfo.InvariantCulture, $"amz-{user}-{p}"),
                        UserId = userId,
                        ItemId = ids.Of(sequence[p - 1]),
                        Type = EventTypeRegistry.Order,
                        Timestamp = SyntheticBase.AddMinutes(p),
                    }));
                }

                if (chunks.IsFull)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    yield return chunks.Take();
                }
            }
        }

        if (!chunks.IsEmpty)
        {
            yield return chunks.Take();
        }
    }

    // "user item item ..." separated by single or repeated spaces; a blank line is skipped silently.
    private static bool TryParseSequence(string text, long line, List<int> items, List<RowError>? errors, out int user)
    {
        items.Clear();
        user = 0;
        var rest = text.AsSpan().Trim();
        if (rest.IsEmpty)
        {
            return false;
        }

        var first = true;
        while (!rest.IsEmpty)
        {
            var space = rest.IndexOf(' ');
            var token = space < 0 ? rest : rest[..space];
            rest = space < 0 ? default : rest[(space + 1)..].TrimStart(' ');
            if (!FieldText.TryParseId(token, out var id))
            {
                errors?.Add(new(line, first ? "user_id" : "item_id", $"{FieldText.Show(token)} is not a positive whole number."));
                return false;
            }

            if (first)
            {
                user = id;
                first = false;
            }
            else
            {
                items.Add(id);
            }
        }

        return true;
    }

    private static List<Row<Item>> ReadItems(string path, List<RowError> errors)
    {
        var items = new List<Row<Item>>();
        var seen = new HashSet<int>();
        var attributes = new StringBuilder();
        var reader = new Utf8JsonReader(File.ReadAllBytes(path), new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip });
        long entry = 0;
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                errors.Add(new(1, "(file)", "expected a JSON object {\"item_id\": [attribute ids, ...], ...}."));
                return items;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                entry++;
                var key = reader.GetString() ?? "";
                reader.Read();
                if (!FieldText.TryParseId(key, out var id))
                {
                    errors.Add(new(entry, "item_id", $"{FieldText.Show(key)} is not a positive whole number."));
                    reader.Skip();
                    continue;
                }

                if (!seen.Add(id))
                {
                    errors.Add(new(entry, "item_id", $"item {id} is listed twice."));
                    reader.Skip();
                    continue;
                }

                if (reader.TokenType != JsonTokenType.StartArray)
                {
                    errors.Add(new(entry, "attributes", $"item {id}: expected an array of attribute ids."));
                    reader.Skip();
                    continue;
                }

                attributes.Clear();
                var ok = true;
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out _))
                    {
                        if (attributes.Length > 0)
                        {
                            attributes.Append(' ');
                        }

                        foreach (var b in reader.ValueSpan)
                        {
                            attributes.Append((char)b);
                        }
                    }
                    else
                    {
                        ok = false;
                        reader.Skip();
                    }
                }

                if (!ok)
                {
                    errors.Add(new(entry, "attributes", $"item {id}: every attribute id must be a whole number."));
                    continue;
                }

                items.Add(new(entry, new Item
                {
                    Id = id.ToString(CultureInfo.InvariantCulture),
                    Title = string.Create(CultureInfo.InvariantCulture, $"Amazon Sports item {id}"),
                    Category = Category,
                    Attributes = new Dictionary<string, string>(1) { ["attributes"] = attributes.ToString() },
                }));
            }
        }
        catch (JsonException ex)
        {
            errors.Add(new(Math.Max(entry, 1), "(file)", $"not valid JSON: {ex.Message}"));
        }

        return items;
    }
}
