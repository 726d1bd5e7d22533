using Ranking.Data;
using Ranking.Domain;

namespace Ranking.Tests.Search;

/// <summary>
/// The four-item catalogue the search tests compute by hand, plus "ghost", an item seen only in an event (unknown to
/// the catalog). Term counts per field, after the tokenizer (stop words out, "boots" → "boot", "skiing" → "ski",
/// "goggles" → "goggle", "lens" → "len", "frying" → "fry", "peppers" → "pepper", "sports" → "sport"):
/// <list type="bullet">
/// <item>boots: title red ski boot | category sport winter ski | brand nordica | description warm boot ski</item>
/// <item>goggles: title ski goggle | category sport winter ski | brand oakley | description goggle red len</item>
/// <item>pan: title fry pan | category home kitchen | brand tefal | description pan red pepper (out of stock)</item>
/// <item>tent: title tent | category sport outdoor | no brand | no description | no price</item>
/// </list>
/// </summary>
internal static class SearchCatalog
{
    public const int Boots = 0, Goggles = 1, Pan = 2, Tent = 3;

    public static InteractionLog Build()
    {
        var builder = new InteractionLogBuilder(EventTypeRegistry.Default);
        builder.AddItem(new Item
        {
            Id = "boots", Title = "Red ski boots", Category = "Sports/Winter/Ski", Brand = "Nordica",
            Description = "Warm boots for skiing", Price = 200, InStock = true,
        });
        builder.AddItem(new Item
        {
            Id = "goggles", Title = "Ski goggles", Category = "Sports/Winter/Ski", Brand = "Oakley",
            Description = "Goggles with red lens", Price = 80, InStock = true,
        });
        builder.AddItem(new Item
        {
            Id = "pan", Title = "Frying pan", Category = "Home/Kitchen", Brand = "Tefal",
            Description = "Pan for red peppers", Price = 30, InStock = false,
        });
        builder.AddItem(new Item { Id = "tent", Title = "Tent", Category = "Sports/Outdoor", InStock = true });
        var view = EventTypeRegistry.Default.TryGetCode(EventTypeRegistry.View, out var code) ? code : throw new InvalidOperationException();
        builder.Add("someone", "boots", view, 1_000);
        builder.Add("someone", "ghost", view, 2_000);
        var log = builder.Build();
        Assert.True(log.TryGetItemIndex("tent", out var tent) && tent == Tent);
        return log;
    }
}
