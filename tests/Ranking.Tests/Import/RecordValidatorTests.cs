using Ranking.Domain;

namespace Ranking.Tests.Import;

public sealed class RecordValidatorTests
{
    private static readonly DateTimeOffset Now = new(2026, 6, 1, 0, 0, 0, TimeSpan.Zero);

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    private static readonly RecordValidator Validator = new(EventTypeRegistry.Default, new FixedClock(Now));

    private static List<string> Fields(UserEvent e)
    {
        var errors = new List<FieldError>();
        Validator.Validate(e, errors);
        return [.. errors.Select(x => x.Field)];
    }

    private static UserEvent Good => new() { EventId = "e", UserId = "u", ItemId = "i", Type = "view", Timestamp = Now.AddHours(-1) };

    [Fact]
    public void Validate_GoodEvent_NoErrors() => Assert.Empty(Fields(Good));

    [Fact]
    public void Validate_EachBadField_IsNamed()
    {
        Assert.Equal(["type"], Fields(Good with { Type = "teleport" }));
        Assert.Equal(["price"], Fields(Good with { Price = -0.01 }));
        Assert.Equal(["price"], Fields(Good with { Price = double.NaN }));
        Assert.Equal(["timestamp"], Fields(Good with { Timestamp = Now.AddDays(2) }));
        Assert.Equal(["timestamp"], Fields(Good with { Timestamp = default }));
        Assert.Equal(["timestamp"], Fields(Good with { Timestamp = new DateTimeOffset(1970, 1, 2, 0, 0, 0, TimeSpan.Zero) }));
        Assert.Equal(["itemId"], Fields(Good with { ItemId = null }));
        Assert.Equal(["query"], Fields(Good with { ItemId = null, Type = "search" }));
        Assert.Equal(["quantity"], Fields(Good with { Quantity = -2 }));
        Assert.Equal(["eventId", "userId"], Fields(Good with { EventId = " ", UserId = "" }));
    }

    [Fact]
    public void Validate_TimestampWithinSkew_Accepted() => Assert.Empty(Fields(Good with { Timestamp = Now.AddHours(23) }));

    [Fact]
    public void Validate_Item_NegativeCostAndEmptyCategory()
    {
        var errors = new List<FieldError>();
        Validator.Validate(new Item { Id = "i", Title = "t", Category = " / ", Cost = -1 }, errors);

        Assert.Equal(["category", "cost"], errors.Select(e => e.Field));
    }
}
