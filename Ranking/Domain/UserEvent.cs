namespace Ranking.Domain;

/// <summary>One thing a user did: viewed, carted, ordered, shared an item, searched, rated...</summary>
/// <remarks>
/// <see cref="EventId"/> is the idempotency key: a store keeps the first event with a given id and counts the
/// others as duplicates. <see cref="ItemId"/> is null for a search. An item id that the catalog does not know is
/// kept as it is (the catalog may arrive later).
/// </remarks>
public sealed record UserEvent
{
    public required string EventId { get; init; }

    public required string UserId { get; init; }

    public string? ItemId { get; init; }

    /// <summary>Event type, lower case, one of the configured <see cref="EventTypeRegistry"/> types.</summary>
    public required string Type { get; init; }

    public required DateTimeOffset Timestamp { get; init; }

    /// <summary>Where it happened: home, analogs, complements, search, chat, crm...</summary>
    public string? Surface { get; init; }

    /// <summary>Search query text (for searches and events on a search page).</summary>
    public string? Query { get; init; }

    /// <summary>The item whose page the event happened on (the anchor of an analogs carousel).</summary>
    public string? ContextItemId { get; init; }

    /// <summary>Unit price paid (orders) or shown.</summary>
    public double? Price { get; init; }

    public int? Quantity { get; init; }

    /// <summary>Browsing session, when the source knows it.</summary>
    public string? SessionId { get; init; }

    /// <summary>A numeric value the event carries: the stars of a rating, for example.</summary>
    public double? Value { get; init; }
}
