using System.ComponentModel;
using System.Globalization;
using Ranking.Domain;

namespace Ranking.Import;

// The records as they travel: JSON (HTTP bodies and JSON Lines, camelCase) and CSV (snake_case headers).
// Every field is optional here so that a missing one is reported by the validator with its name, not by the parser.

[Description("An item of the catalog.")]
public sealed record ItemRecord
{
    [Description("External item id (required, at most 256 characters).")]
    public string? Id { get; init; }

    [Description("Title (required).")]
    public string? Title { get; init; }

    public string? Description { get; init; }

    [Description("Category path with '/' between levels, e.g. Sports/Winter/Snowboards (required).")]
    public string? Category { get; init; }

    public string? Brand { get; init; }

    [Description("Price, >= 0; omit when unknown.")]
    public double? Price { get; init; }

    [Description("Cost, >= 0; omit when unknown.")]
    public double? Cost { get; init; }

    [Description("In stock (default true).")]
    public bool? InStock { get; init; }

    [Description("When the item entered the catalog (ISO 8601).")]
    public DateTimeOffset? CreatedAt { get; init; }

    public Dictionary<string, string>? Attributes { get; init; }

    public Item ToDomain() => new()
    {
        Id = Id?.Trim() ?? "",
        Title = Title?.Trim() ?? "",
        Description = Description ?? "",
        Category = CategoryPath.Normalize(Category ?? ""),
        Brand = string.IsNullOrWhiteSpace(Brand) ? null : Brand.Trim(),
        Price = Price,
        Cost = Cost,
        InStock = InStock ?? true,
        CreatedAt = CreatedAt ?? default,
        Attributes = Attributes ?? [],
    };

    public static ItemRecord FromDomain(Item item) => new()
    {
        Id = item.Id, Title = item.Title, Description = item.Description, Category = item.Category, Brand = item.Brand,
        Price = item.Price, Cost = item.Cost, InStock = item.InStock,
        CreatedAt = item.CreatedAt == default ? null : item.CreatedAt,
        Attributes = new Dictionary<string, string>(item.Attributes),
    };
}

[Description("A user.")]
public sealed record UserRecord
{
    [Description("External user id (required).")]
    public string? Id { get; init; }

    public Dictionary<string, string>? Attributes { get; init; }

    [Description("CRM consent per channel (email, push, sms).")]
    public Dictionary<string, bool>? Consent { get; init; }

    public User ToDomain() => new()
    {
        Id = Id?.Trim() ?? "",
        Attributes = Attributes ?? [],
        Consent = Consent is null ? [] : Consent.ToDictionary(p => p.Key.Trim().ToLowerInvariant(), p => p.Value),
    };

    public static UserRecord FromDomain(User user) => new()
    {
        Id = user.Id,
        Attributes = new Dictionary<string, string>(user.Attributes),
        Consent = new Dictionary<string, bool>(user.Consent),
    };
}

[Description("One event: a view, cart, order, share, search, rating...")]
public sealed record EventRecord
{
    [Description("Idempotency key (required): an event id already stored is counted as a duplicate.")]
    public string? EventId { get; init; }

    [Description("External user id (required).")]
    public string? UserId { get; init; }

    [Description("Item id; required except for searches. An id the catalog lacks is stored and counted.")]
    public string? ItemId { get; init; }

    [Description("Event type, one of the configured types (view, cart, order, share, search, rating by default).")]
    public string? Type { get; init; }

    [Description("When it happened (ISO 8601); not more than a day in the future.")]
    public DateTimeOffset? Timestamp { get; init; }

    [Description("Surface: home, analogs, complements, search, chat, crm...")]
    public string? Surface { get; init; }

    [Description("Search query text (required for a search).")]
    public string? Query { get; init; }

    [Description("The item whose page the event happened on.")]
    public string? ContextItemId { get; init; }

    [Description("Unit price paid or shown, >= 0.")]
    public double? Price { get; init; }

    [Description("Quantity, > 0.")]
    public int? Quantity { get; init; }

    public string? SessionId { get; init; }

    [Description("A numeric value, e.g. the stars of a rating.")]
    public double? Value { get; init; }

    public UserEvent ToDomain() => new()
    {
        EventId = EventId?.Trim() ?? "",
        UserId = UserId?.Trim() ?? "",
        ItemId = string.IsNullOrWhiteSpace(ItemId) ? null : ItemId.Trim(),
        Type = Type?.Trim().ToLowerInvariant() ?? "",
        Timestamp = Timestamp ?? default,
        Surface = Blank(Surface),
        Query = Blank(Query),
        ContextItemId = Blank(ContextItemId),
        Price = Price,
        Quantity = Quantity,
        SessionId = Blank(SessionId),
        Value = Value,
    };

    public static EventRecord FromDomain(UserEvent e) => new()
    {
        EventId = e.EventId, UserId = e.UserId, ItemId = e.ItemId, Type = e.Type, Timestamp = e.Timestamp,
        Surface = e.Surface, Query = e.Query, ContextItemId = e.ContextItemId, Price = e.Price, Quantity = e.Quantity,
        SessionId = e.SessionId, Value = e.Value,
    };

    private static string? Blank(string? s) => string.IsNullOrWhiteSpace(s) ? null : s.Trim();
}

/// <summary>Parsing of CSV cell values, with errors that name the column.</summary>
public static class CsvValues
{
    public static double? Double(string? cell, string column, List<(string Field, string Message)> errors)
    {
        if (string.IsNullOrWhiteSpace(cell))
        {
            return null;
        }

        if (double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out var v))
        {
            return v;
        }

        errors.Add((column, $"'{cell}' is not a number."));
        return null;
    }

    public static int? Int(string? cell, string column, List<(string Field, string Message)> errors)
    {
        if (string.IsNullOrWhiteSpace(cell))
        {
            return null;
        }

        if (int.TryParse(cell, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v))
        {
            return v;
        }

        errors.Add((column, $"'{cell}' is not a whole number."));
        return null;
    }

    public static bool? Bool(string? cell, string column, List<(string Field, string Message)> errors)
    {
        if (string.IsNullOrWhiteSpace(cell))
        {
            return null;
        }

        switch (cell.Trim().ToLowerInvariant())
        {
            case "1" or "true" or "yes" or "y":
                return true;
            case "0" or "false" or "no" or "n":
                return false;
            default:
                errors.Add((column, $"'{cell}' is not a boolean (true/false, 1/0)."));
                return null;
        }
    }

    /// <summary>ISO 8601, or Unix seconds as a whole number.</summary>
    public static DateTimeOffset? Timestamp(string? cell, string column, List<(string Field, string Message)> errors)
    {
        if (string.IsNullOrWhiteSpace(cell))
        {
            return null;
        }

        if (long.TryParse(cell, NumberStyles.Integer, CultureInfo.InvariantCulture, out var seconds))
        {
            if (seconds is > -62135596800 and < 253402300800)
            {
                return DateTimeOffset.FromUnixTimeSeconds(seconds);
            }
        }
        else if (DateTimeOffset.TryParse(cell, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var ts))
        {
            return ts;
        }

        errors.Add((column, $"'{cell}' is not a timestamp (ISO 8601 or Unix seconds)."));
        return null;
    }

    /// <summary><c>k=v;k=v</c>, or a JSON object of strings.</summary>
    public static Dictionary<string, string>? Map(string? cell, string column, List<(string Field, string Message)> errors)
    {
        if (string.IsNullOrWhiteSpace(cell))
        {
            return null;
        }

        var trimmed = cell.Trim();
        if (trimmed.StartsWith('{'))
        {
            try
            {
                return System.Text.Json.JsonSerializer.Deserialize(trimmed, ImportJsonContext.Default.DictionaryStringString);
            }
            catch (System.Text.Json.JsonException ex)
            {
                errors.Add((column, $"not a JSON object of strings: {ex.Message}"));
                return null;
            }
        }

        var map = new Dictionary<string, string>();
        foreach (var pair in trimmed.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var eq = pair.IndexOf('=');
            if (eq <= 0)
            {
                errors.Add((column, $"'{pair}' is not key=value."));
                return null;
            }

            map[pair[..eq].Trim()] = pair[(eq + 1)..].Trim();
        }

        return map;
    }
}
