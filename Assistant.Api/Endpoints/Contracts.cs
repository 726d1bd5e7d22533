using System.ComponentModel;
using Ranking.Import;

namespace Assistant.Api.Endpoints;

[Description("A batch of catalog items to insert or replace.")]
public sealed record ItemBatchRequest([property: Description("The items (at most Api:MaxBatchSize).")] IReadOnlyList<ItemRecord>? Items);

[Description("A batch of users to insert or replace.")]
public sealed record UserBatchRequest([property: Description("The users (at most Api:MaxBatchSize).")] IReadOnlyList<UserRecord>? Users);

[Description("A batch of events. Sending the same batch twice stores it once.")]
public sealed record EventBatchRequest([property: Description("The events (at most Api:MaxBatchSize).")] IReadOnlyList<EventRecord>? Events);

[Description("What an upsert wrote.")]
public sealed record UpsertResponse(
    [property: Description("Records in the request.")] int Received,
    [property: Description("Records inserted or replaced.")] int Written);

[Description("What an event batch did.")]
public sealed record EventIngestResponse(
    [property: Description("Events in the request.")] int Received,
    [property: Description("Events stored now.")] int Stored,
    [property: Description("Events whose id was already stored (or repeated in the batch): not stored again.")] int Duplicates,
    [property: Description("Stored events naming an item the catalog does not have (kept all the same).")] int UnknownItems);

[Description("A page of items.")]
public sealed record ItemPage(
    [property: Description("Items in id order.")] IReadOnlyList<ItemRecord> Items,
    int Offset,
    int Limit,
    [property: Description("Total items in the catalog (all categories).")] long Total);

[Description("A user's latest events, oldest first.")]
public sealed record UserEventsResponse(
    string UserId,
    [property: Description("False when the store has no user record with this id (events may still exist).")] bool Known,
    IReadOnlyList<EventRecord> Events);
