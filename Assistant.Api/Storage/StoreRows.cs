using System.Data.Common;
using Ranking.Domain;

namespace Assistant.Api.Storage;

/// <summary>
/// Rows to domain records, the same for every store: the column lists of the stores' SELECTs are the same, and only
/// the way a timestamp is kept differs (Unix milliseconds in SQLite, timestamptz in PostgreSQL). Maps arrive as JSON text.
/// </summary>
internal sealed class StoreRows(Func<DbDataReader, int, DateTimeOffset> time)
{
    public static readonly StoreRows Sqlite = new(static (r, i) => DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(i)));

    public static readonly StoreRows Postgres = new(static (r, i) => new DateTimeOffset(r.GetFieldValue<DateTime>(i), TimeSpan.Zero));

    /// <summary>id, title, description, category, brand, price, cost, in_stock, created_at, attributes</summary>
    public Item Item(DbDataReader r) => new()
    {
        Id = r.GetString(0),
        Title = r.GetString(1),
        Description = r.GetString(2),
        Category = r.GetString(3),
        Brand = NullableString(r, 4),
        Price = NullableDouble(r, 5),
        Cost = NullableDouble(r, 6),
        InStock = r.GetBoolean(7),
        CreatedAt = time(r, 8),
        Attributes = StorageJson.ReadStrings(r.GetString(9)),
    };

    /// <summary>id, attributes, consent</summary>
    public User User(DbDataReader r) => new()
    {
        Id = r.GetString(0),
        Attributes = StorageJson.ReadStrings(r.GetString(1)),
        Consent = StorageJson.ReadBools(r.GetString(2)),
    };

    /// <summary>event_id, user_id, item_id, type, ts, surface, query, context_item_id, price, quantity, session_id, value</summary>
    public UserEvent Event(DbDataReader r) => new()
    {
        EventId = r.GetString(0),
        UserId = r.GetString(1),
        ItemId = NullableString(r, 2),
        Type = r.GetString(3),
        Timestamp = time(r, 4),
        Surface = NullableString(r, 5),
        Query = NullableString(r, 6),
        ContextItemId = NullableString(r, 7),
        Price = NullableDouble(r, 8),
        Quantity = r.IsDBNull(9) ? null : r.GetInt32(9),
        SessionId = NullableString(r, 10),
        Value = NullableDouble(r, 11),
    };

    /// <summary>id, name, channel, started_at, description</summary>
    public CrmCampaign Campaign(DbDataReader r) => new()
    {
        Id = r.GetString(0), Name = r.GetString(1), Channel = r.GetString(2), StartedAt = time(r, 3), Description = r.GetString(4),
    };

    /// <summary>send_id, campaign_id, user_id, channel, sent_at, is_treatment, variant</summary>
    public CrmSend Send(DbDataReader r) => new()
    {
        SendId = r.GetString(0), CampaignId = r.GetString(1), UserId = r.GetString(2), Channel = r.GetString(3),
        SentAt = time(r, 4), IsTreatment = r.GetBoolean(5), Variant = r.GetString(6),
    };

    /// <summary>campaign_id, plan, created_at</summary>
    public CrmPlanDocument Plan(DbDataReader r) => new()
    {
        CampaignId = r.GetString(0), Json = r.GetString(1), CreatedAt = time(r, 2),
    };

    /// <summary>send_id, type, ts, value</summary>
    public CrmOutcome Outcome(DbDataReader r) => new()
    {
        SendId = r.GetString(0), Type = r.GetString(1), Timestamp = time(r, 2), Value = NullableDouble(r, 3),
    };

    /// <summary>name, salt, layer, variants, created_at, status, coverage, layer_offset, layer_share, targeting, started_at, stopped_at</summary>
    public Experiment Experiment(DbDataReader r) => new()
    {
        Name = r.GetString(0), Salt = r.GetString(1), Layer = r.GetString(2), Variants = StorageJson.ReadVariants(r.GetString(3)), CreatedAt = time(r, 4),
        Status = StorageJson.ReadStatus(r.GetString(5)), Coverage = r.GetDouble(6), LayerOffset = r.GetDouble(7), LayerShare = r.GetDouble(8),
        Targeting = StorageJson.ReadTargeting(r.GetString(9)),
        StartedAt = r.IsDBNull(10) ? null : time(r, 10),
        StoppedAt = r.IsDBNull(11) ? null : time(r, 11),
    };

    /// <summary>experiment, user_id, variant, ts</summary>
    public Exposure Exposure(DbDataReader r) => new()
    {
        Experiment = r.GetString(0), UserId = r.GetString(1), Variant = r.GetString(2), Timestamp = time(r, 3),
    };

    private static string? NullableString(DbDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);

    private static double? NullableDouble(DbDataReader r, int i) => r.IsDBNull(i) ? null : r.GetDouble(i);
}
