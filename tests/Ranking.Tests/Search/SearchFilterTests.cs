using Ranking.Data;
using Ranking.Search;

namespace Ranking.Tests.Search;

public sealed class SearchFilterTests
{
    private readonly InteractionLog _log = SearchCatalog.Build();

    public static TheoryData<SearchFilter, int[]> Cases => new()
    {
        { new SearchFilter(), [SearchCatalog.Boots, SearchCatalog.Goggles, SearchCatalog.Pan, SearchCatalog.Tent] },
        { new SearchFilter { CategoryPrefix = "Sports/Winter" }, [SearchCatalog.Boots, SearchCatalog.Goggles] },
        { new SearchFilter { CategoryPrefix = "sports/winter/ski" }, [SearchCatalog.Boots, SearchCatalog.Goggles] },
        { new SearchFilter { CategoryPrefix = " Sports / Winter /" }, [SearchCatalog.Boots, SearchCatalog.Goggles] },
        { new SearchFilter { CategoryPrefix = "Sports" }, [SearchCatalog.Boots, SearchCatalog.Goggles, SearchCatalog.Tent] },
        { new SearchFilter { CategoryPrefix = "Sports/Win" }, [] },
        { new SearchFilter { CategoryPrefix = "Sports/Winter/Ski/Alpine" }, [] },
        { new SearchFilter { CategoryPrefix = "/" }, [SearchCatalog.Boots, SearchCatalog.Goggles, SearchCatalog.Pan, SearchCatalog.Tent] },
        { new SearchFilter { Brand = "tefal" }, [SearchCatalog.Pan] },
        { new SearchFilter { Brand = "Nike" }, [] },
        { new SearchFilter { MinPrice = 50 }, [SearchCatalog.Boots, SearchCatalog.Goggles] },
        { new SearchFilter { MaxPrice = 80 }, [SearchCatalog.Goggles, SearchCatalog.Pan] },
        { new SearchFilter { MinPrice = 30, MaxPrice = 30 }, [SearchCatalog.Pan] },
        { new SearchFilter { MinPrice = 100, MaxPrice = 50 }, [] },
        { new SearchFilter { MinPrice = double.NaN }, [] },
        { new SearchFilter { InStockOnly = true }, [SearchCatalog.Boots, SearchCatalog.Goggles, SearchCatalog.Tent] },
        { new SearchFilter { CategoryPrefix = "Sports", InStockOnly = true, MaxPrice = 100 }, [SearchCatalog.Goggles] },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Matches_Filter_ExpectedItems(SearchFilter filter, int[] expected)
    {
        var matched = new List<int>();
        for (var item = 0; item < _log.Items.Count; item++)
        {
            if (filter.Matches(_log.Items, item))
            {
                matched.Add(item);
            }
        }

        Assert.Equal(expected, matched);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Prepare_Filter_AgreesWithMatches(SearchFilter filter, int[] expected)
    {
        var plan = SearchFilter.Prepare(filter, _log.Items)!;

        for (var item = -1; item <= _log.Items.Count; item++)
        {
            Assert.Equal(filter.Matches(_log.Items, item), plan.Allows(item));
        }

        Assert.Equal(expected.Length, Enumerable.Range(0, _log.Items.Count).Count(plan.Allows));
    }

    [Fact]
    public void Matches_UnknownOrOutOfRangeItem_False()
    {
        Assert.True(_log.TryGetItemIndex("ghost", out var ghost));
        var any = new SearchFilter();

        Assert.False(any.Matches(_log.Items, ghost));
        Assert.False(any.Matches(_log.Items, -1));
        Assert.False(any.Matches(_log.Items, _log.Items.Count));
    }

    [Fact]
    public void Prepare_NullFilter_Null()
    {
        Assert.Null(SearchFilter.Prepare(null, _log.Items));
    }
}
