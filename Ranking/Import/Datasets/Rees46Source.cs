using System.Globalization;
using System.Text;
using Ranking.Domain;

namespace Ranking.Import.Datasets;

/// <summary>
/// REES46 e-commerce behaviour events (Kaggle "eCommerce behavior data from multi category store"): one CSV file,
/// <c>events.csv</c>, with the columns event_time, event_type, product_id, category_id, category_code, brand, price,
/// user_id, user_session (matched by header name).
/// </summary>
/// <remarks>
/// <para><b>Mapping.</b></para>
/// <list type="bullet">
/// <item><description>Items, one per product_id, in order of first appearance (<see cref="Row{T}.Line"/> = the line
/// of that first row): id = product_id as written; category = category_code with '.' turned into '/'
/// (<c>electronics.smartphone</c> -> <c>electronics/smartphone</c>), or <c>category-{category_id}</c> when the code is
/// empty; attribute <c>category_id</c> (kept as text: it exceeds 2^53); brand, null when empty; price = the last
/// positive price seen for the product, null when it never had one. The data has no titles, so the title is made
/// from brand, the last category level and the id (<c>samsung smartphone 1004833</c>,
/// <c>product 44600062</c> without code or brand). Category and brand are taken from the first row of a
/// product (they never differ in the shared sample).</description></item>
/// <item><description>Users, one per user_id, in order of first appearance, without attributes or consent.</description></item>
/// <item><description>Events, one per row, in file order: <c>view</c>, <c>cart</c> -> themselves, <c>purchase</c> ->
/// <c>order</c> (quantity 1, the data has none); any other type (the later months' <c>remove_from_cart</c>) is passed
/// on lower-cased, for the validator to accept when the type is configured or reject otherwise. Timestamp from
/// <c>YYYY-MM-DD HH:MM:SS UTC</c>; <see cref="UserEvent.SessionId"/> = user_session; price = the row's price, or null
/// when it is 0 or negative (19 rows of the shared sample, all 0.00, meaning unknown); surface null. Event id
/// <c>rees46-{line}</c>: line-based, so re-importing the same file is idempotent and the data's exact duplicate rows
/// (5 in the shared sample) stay separate events.</description></item>
/// </list>
/// <para>The file is read twice per <see cref="ReadAsync"/>: a first pass collects the catalog and users so that
/// they come before the events; the second yields the events and reports bad rows (as <see cref="RowError"/>s
/// naming the column; a bad row yields no event and does not enter the catalog).</para>
/// </remarks>
public sealed class Rees46Source : IImportSource
{
    public const string FileName = "events.csv";

    private static readonly string[] Columns =
        ["event_time", "event_type", "product_id", "category_id", "category_code", "brand", "price", "user_id", "user_session"];

    private const int TimeCol = 0, TypeCol = 1, ProductCol = 2, CategoryIdCol = 3, CategoryCodeCol = 4, BrandCol = 5, PriceCol = 6,
        UserCol = 7, SessionCol = 8;

    private readonly string _path;
    private readonly int _chunkSize;

    /// <param name="folder">The folder that holds <c>events.csv</c>.</param>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    public Rees46Source(string folder, int chunkSize = DatasetCatalog.DefaultChunkSize)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(chunkSize);
        if (!Directory.Exists(folder))
        {
            throw new DirectoryNotFoundException($"The REES46 folder '{folder}' does not exist.");
        }

        _path = Path.Combine(folder, FileName);
        _chunkSize = chunkSize;
    }

    public string Name => DatasetCatalog.Rees46;

    public IAsyncEnumerable<ImportChunk> ReadAsync(CancellationToken cancellationToken = default) =>
        ChunkBuilder.StreamAsync(ReadChunks(cancellationToken), cancellationToken);

    private IEnumerable<ImportChunk> ReadChunks(CancellationToken cancellationToken)
    {
        var chunks = new ChunkBuilder(_chunkSize);
        var (items, users, headerErrors) = ReadCatalog(cancellationToken);
        if (headerErrors.Count > 0)
        {
            chunks.Current.Errors.AddRange(headerErrors);
            yield return chunks.Take();
            yield break;
        }

        foreach (var item in items)
        {
            chunks.Current.Items.Add(item);
            if (chunks.IsFull)
            {
                yield return chunks.Take();
            }
        }

        foreach (var user in users)
        {
            chunks.Current.Users.Add(user);
            if (chunks.IsFull)
            {
                yield return chunks.Take();
            }
        }

        using var reader = FieldText.OpenText(_path, Encoding.UTF8);
        var csv = new CsvReader(reader);
        var fields = new List<string>();
        var columns = ReadHeader(csv, fields, errors: null);
        long line = 1;
        while (columns is not null)
        {
            if (!csv.TryReadOrReport(fields, chunks.Current.Errors, out line))
            {
                break;
            }

            if (TryParse(fields, columns, line, chunks.Current.Errors, out var row))
            {
                chunks.Current.Events.Add(new(line, ToEvent(row, line)));
            }

            if (chunks.IsFull)
            {
                cancellationToken.ThrowIfCancellationRequested();
                yield return chunks.Take();
            }
        }

        if (!chunks.IsEmpty)
        {
            yield return chunks.Take();
        }
    }

    private (List<Row<Item>> Items, List<Row<User>> Users, List<RowError> HeaderErrors) ReadCatalog(CancellationToken cancellationToken)
    {
        var products = new Dictionary<string, int>(StringComparer.Ordinal);
        var drafts = new List<ProductDraft>();
        var userLines = new Dictionary<string, long>(StringComparer.Ordinal);
        var users = new List<Row<User>>();
        var headerErrors = new List<RowError>();

        using (var reader = FieldText.OpenText(_path, Encoding.UTF8))
        {
            var csv = new CsvReader(reader);
            var fields = new List<string>();
            var columns = ReadHeader(csv, fields, headerErrors);
            while (columns is not null)
            {
                long line;
                try
                {
                    if (!csv.TryRead(fields, out line))
                    {
                        break;
                    }
                }
                catch (FormatException)
                {
                    // Reported by the event pass.
                    break;
                }

                if (!TryParse(fields, columns, line, errors: null, out var row))
                {
                    continue;
                }

                if (!products.TryGetValue(row.ProductId, out var index))
                {
                    products.Add(row.ProductId, drafts.Count);
                    drafts.Add(new ProductDraft(line, row));
                }
                else if (row.Price > 0)
                {
                    drafts[index].Price = row.Price;
                }

                if (userLines.TryAdd(row.UserId, line))
                {
                    users.Add(new(line, new User { Id = row.UserId }));
                }

                if ((line & 0xFFFF) == 0)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                }
            }
        }

        var items = new List<Row<Item>>(drafts.Count);
        foreach (var draft in drafts)
        {
            items.Add(new(draft.Line, draft.ToItem()));
        }

        return (items, users, headerErrors);
    }

    // Where each known column is in the file, or null when the header lacks one (reported when errors is given).
    private static Header? ReadHeader(CsvReader csv, List<string> fields, List<RowError>? errors)
    {
        long line = 1;
        bool any;
        try
        {
            any = csv.TryRead(fields, out line);
        }
        catch (FormatException ex)
        {
            errors?.Add(new(1, "(header)", ex.Message));
            return null;
        }

        if (!any)
        {
            errors?.Add(new(1, "(header)", $"The file is empty; expected the header {string.Join(',', Columns)}."));
            return null;
        }

        var columns = new int[Columns.Length];
        var missing = false;
        for (var c = 0; c < Columns.Length; c++)
        {
            columns[c] = fields.FindIndex(h => string.Equals(h.Trim(), Columns[c], StringComparison.OrdinalIgnoreCase));
            if (columns[c] < 0)
            {
                errors?.Add(new(line, Columns[c], "The header lacks this column."));
                missing = true;
            }
        }

        return missing ? null : new Header(columns, fields.Count);
    }

    private static bool TryParse(List<string> fields, Header header, long line, List<RowError>? errors, out EventRow row)
    {
        row = default;
        if (fields.Count != header.Width)
        {
            errors?.Add(new(line, "(row)", $"has {fields.Count} fields; the header has {header.Width}."));
            return false;
        }

        var columns = header.Index;

        var ok = true;
        var time = fields[columns[TimeCol]];
        if (!DateTime.TryParseExact(time, "yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var timestamp))
        {
            errors?.Add(new(line, "event_time", $"{FieldText.Show(time)} is not 'YYYY-MM-DD HH:MM:SS UTC'."));
            ok = false;
        }

        var type = fields[columns[TypeCol]].Trim();
        if (type.Length == 0)
        {
            errors?.Add(new(line, "event_type", "The event type is empty."));
            ok = false;
        }

        var product = fields[columns[ProductCol]].Trim();
        if (!FieldText.IsDigits64(product))
        {
            errors?.Add(new(line, "product_id", $"{FieldText.Show(product)} is not a whole number."));
            ok = false;
        }

        var categoryId = fields[columns[CategoryIdCol]].Trim();
        if (!FieldText.IsDigits64(categoryId))
        {
            errors?.Add(new(line, "category_id", $"{FieldText.Show(categoryId)} is not a whole number."));
            ok = false;
        }

        var priceText = fields[columns[PriceCol]];
        if (!FieldText.TryParseDouble(priceText, out var price))
        {
            errors?.Add(new(line, "price", $"{FieldText.Show(priceText)} is not a number."));
            ok = false;
        }

        var user = fields[columns[UserCol]].Trim();
        if (!FieldText.IsDigits64(user))
        {
            errors?.Add(new(line, "user_id", $"{FieldText.Show(user)} is not a whole number."));
            ok = false;
        }

        if (!ok)
        {
            return false;
        }

        var brand = fields[columns[BrandCol]].Trim();
        var session = fields[columns[SessionCol]].Trim();
        row = new EventRow(
            new DateTimeOffset(timestamp, TimeSpan.Zero), type, product, categoryId, fields[columns[CategoryCodeCol]].Trim(),
            brand.Length == 0 ? null : brand, price, user, session.Length == 0 ? null : session);
        return true;
    }

    private static UserEvent ToEvent(in EventRow row, long line)
    {
        var type = row.Type.ToLowerInvariant() switch
        {
            "view" => EventTypeRegistry.View,
            "cart" => EventTypeRegistry.Cart,
            "purchase" => EventTypeRegistry.Order,
            var other => other,
        };
        return new UserEvent
        {
            EventId = string.Create(CultureInfo.InvariantCulture, $"rees46-{line}"),
            UserId = row.UserId,
            ItemId = row.ProductId,
            Type = type,
            Timestamp = row.Time,
            Price = row.Price > 0 ? row.Price : null,
            Quantity = type == EventTypeRegistry.Order ? 1 : null,
            SessionId = row.Session,
        };
    }

    private sealed record Header(int[] Index, int Width);

    private readonly record struct EventRow(
        DateTimeOffset Time, string Type, string ProductId, string CategoryId, string CategoryCode, string? Brand, double Price,
        string UserId, string? Session);

    private sealed class ProductDraft(long line, EventRow first)
    {
        public long Line => line;

        public double? Price { get; set; } = first.Price > 0 ? first.Price : null;

        public Item ToItem()
        {
            var code = first.CategoryCode;
            var category = code.Length == 0 ? $"category-{first.CategoryId}" : CategoryPath.Normalize(code.Replace('.', CategoryPath.Separator));
            var leaf = code.Length == 0 ? "product" : code[(code.LastIndexOf('.') + 1)..].Replace('_', ' ');
            return new Item
            {
                Id = first.ProductId,
                Title = first.Brand is null ? $"{leaf} {first.ProductId}" : $"{first.Brand} {leaf} {first.ProductId}",
                Category = category,
                Brand = first.Brand,
                Price = Price,
                Attributes = new Dictionary<string, string>(1) { ["category_id"] = first.CategoryId },
            };
        }
    }
}
