using Ranking.Domain;

namespace Ranking.Tests.Data;

public sealed class EventTypeRegistryTests
{
    [Fact]
    public void Default_HasTheFoundationTypes_WithOrderOutweighingView()
    {
        var types = EventTypeRegistry.Default;

        foreach (var t in new[] { "view", "cart", "order", "share", "search" })
        {
            Assert.True(types.IsKnown(t), t);
        }

        Assert.True(types.WeightOf("order") > types.WeightOf("cart"));
        Assert.True(types.WeightOf("cart") > types.WeightOf("view"));
        Assert.Equal(0f, types.WeightOf("teleport"));
        Assert.True(types.IsKnown("VIEW"));
    }

    [Fact]
    public void Configured_OpenSet_AcceptsNewTypesAndRejectsBadWeights()
    {
        var types = new EventTypeRegistry(new Dictionary<string, double> { ["view"] = 1, ["Wishlist"] = 2.5 });

        Assert.True(types.IsKnown("wishlist"));
        Assert.False(types.IsKnown("order"));
        Assert.True(types.TryGetCode("wishlist", out var code));
        Assert.Equal("wishlist", types.NameOf(code));
        Assert.Equal(2.5f, types.WeightOf(code));
        Assert.Throws<ArgumentException>(() => new EventTypeRegistry(new Dictionary<string, double> { ["view"] = -1 }));
        Assert.Throws<ArgumentException>(() => new EventTypeRegistry(new Dictionary<string, double>()));
        Assert.Throws<ArgumentException>(() => new EventTypeRegistry(new Dictionary<string, double> { ["a"] = 1, ["A"] = 2 }));
    }
}
