namespace Ranking.Domain;

/// <summary>One problem with one field of one record.</summary>
/// <param name="Field">The field name as the wire formats spell it (camelCase), e.g. <c>type</c>.</param>
public readonly record struct FieldError(string Field, string Message);

/// <summary>
/// The domain rules every way in (HTTP, CSV, JSON Lines, data set adapters) applies before anything is stored.
/// </summary>
public sealed class RecordValidator(EventTypeRegistry eventTypes, TimeProvider? clock = null)
{
    /// <summary>How far in the future a timestamp may lie (clock skew between producers).</summary>
    public static readonly TimeSpan MaxFutureSkew = TimeSpan.FromDays(1);

    /// <summary>The earliest timestamp accepted; anything before it is a unit mistake (milliseconds as seconds...).</summary>
    public static readonly DateTimeOffset MinTimestamp = new(1990, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public const int MaxIdLength = 256;

    private readonly TimeProvider _clock = clock ?? TimeProvider.System;

    public EventTypeRegistry EventTypes => eventTypes;

    public void Validate(UserEvent e, List<FieldError> errors)
    {
        RequireId(e.EventId, "eventId", errors);
        RequireId(e.UserId, "userId", errors);
        if (string.IsNullOrWhiteSpace(e.Type))
        {
            errors.Add(new("type", "The event type is required."));
        }
        else if (!eventTypes.IsKnown(e.Type))
        {
            errors.Add(new("type", $"Unknown event type '{e.Type}'. Known types: {string.Join(", ", eventTypes.Names)}."));
        }
        else if (string.Equals(e.Type, EventTypeRegistry.Search, StringComparison.OrdinalIgnoreCase))
        {
            if (string.IsNullOrWhiteSpace(e.Query))
            {
                errors.Add(new("query", "A search event needs the query text."));
            }
        }
        else if (string.IsNullOrWhiteSpace(e.ItemId))
        {
            errors.Add(new("itemId", $"A '{e.Type}' event needs an item id."));
        }

        if (e.ItemId is { Length: > MaxIdLength })
        {
            errors.Add(new("itemId", $"An item id is at most {MaxIdLength} characters."));
        }

        CheckTimestamp(e.Timestamp, "timestamp", errors);
        CheckMoney(e.Price, "price", errors);
        if (e.Quantity is <= 0)
        {
            errors.Add(new("quantity", $"The quantity must be positive; it was {e.Quantity}."));
        }

        if (e.Value is { } v && !double.IsFinite(v))
        {
            errors.Add(new("value", "The value must be a finite number."));
        }
    }

    public void Validate(Item item, List<FieldError> errors)
    {
        RequireId(item.Id, "id", errors);
        if (string.IsNullOrWhiteSpace(item.Title))
        {
            errors.Add(new("title", "The title is required."));
        }

        if (string.IsNullOrWhiteSpace(CategoryPath.Normalize(item.Category ?? "")))
        {
            errors.Add(new("category", "The category path is required (for example Sports/Winter/Snowboards)."));
        }

        CheckMoney(item.Price, "price", errors);
        CheckMoney(item.Cost, "cost", errors);
        if (item.CreatedAt != default)
        {
            CheckTimestamp(item.CreatedAt, "createdAt", errors);
        }
    }

    public void Validate(User user, List<FieldError> errors) => RequireId(user.Id, "id", errors);

    public void Validate(CrmSend send, List<FieldError> errors)
    {
        RequireId(send.SendId, "sendId", errors);
        RequireId(send.CampaignId, "campaignId", errors);
        RequireId(send.UserId, "userId", errors);
        CheckTimestamp(send.SentAt, "sentAt", errors);
    }

    public void Validate(CrmOutcome outcome, List<FieldError> errors)
    {
        RequireId(outcome.SendId, "sendId", errors);
        RequireId(outcome.Type, "type", errors);
        CheckTimestamp(outcome.Timestamp, "timestamp", errors);
        if (outcome.Value is { } v && !double.IsFinite(v))
        {
            errors.Add(new("value", "The value must be a finite number."));
        }
    }

    private void CheckTimestamp(DateTimeOffset ts, string field, List<FieldError> errors)
    {
        if (ts == default)
        {
            errors.Add(new(field, "The timestamp is required."));
        }
        else if (ts < MinTimestamp)
        {
            errors.Add(new(field, $"The timestamp {ts:O} is before {MinTimestamp:yyyy-MM-dd}; check its unit."));
        }
        else if (ts > _clock.GetUtcNow() + MaxFutureSkew)
        {
            errors.Add(new(field, $"The timestamp {ts:O} is more than {MaxFutureSkew.TotalHours:0} hours in the future."));
        }
    }

    private static void CheckMoney(double? amount, string field, List<FieldError> errors)
    {
        if (amount is not { } a)
        {
            return;
        }

        if (!double.IsFinite(a))
        {
            errors.Add(new(field, $"The {field} must be a finite number."));
        }
        else if (a < 0)
        {
            errors.Add(new(field, $"The {field} must not be negative; it was {a}."));
        }
    }

    private static void RequireId(string? id, string field, List<FieldError> errors)
    {
        if (string.IsNullOrWhiteSpace(id))
        {
            errors.Add(new(field, $"The {field} is required."));
        }
        else if (id.Length > MaxIdLength)
        {
            errors.Add(new(field, $"The {field} is at most {MaxIdLength} characters."));
        }
    }
}
