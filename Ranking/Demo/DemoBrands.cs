namespace Ranking.Demo;

/// <summary>Where a brand sits in the market: it sets the price level and the margin of its items.</summary>
public enum BrandTier
{
    /// <summary>Prices 1.4-1.8x the leaf range, margin 10 points above the leaf's.</summary>
    Premium,

    /// <summary>Prices 0.75-1.0x the leaf range, margin 8 points below the leaf's (a thin margin).</summary>
    Mass,

    /// <summary>
    /// New to the marketplace: every item was created in the last 60 days of the history, at 0.85-1.1x the leaf
    /// range with an introductory margin 12 points below the leaf's. These are the brand-discovery candidates.
    /// </summary>
    NewToMarket,
}

/// <summary>An invented brand of the demo marketplace; it sells in one top-level category.</summary>
/// <param name="Name">The brand name; invented, not a real brand.</param>
/// <param name="Top">The top-level category it sells in ("Sports").</param>
public sealed record DemoBrand(string Name, string Top, BrandTier Tier)
{
    /// <summary>The lowest and highest factor applied to a leaf price for this tier.</summary>
    public (double Min, double Max) PriceFactor => Tier switch
    {
        BrandTier.Premium => (1.4, 1.8),
        BrandTier.Mass => (0.75, 1.0),
        _ => (0.85, 1.1),
    };

    /// <summary>Added to the leaf's typical margin share for this tier.</summary>
    public double MarginShift => Tier switch
    {
        BrandTier.Premium => 0.10,
        BrandTier.Mass => -0.08,
        _ => -0.12,
    };
}

/// <summary>The brands of the demo marketplace: per top-level category two premium, three mass and two new brands.</summary>
public static class DemoBrands
{
    /// <summary>Every brand, grouped by top-level category in tree order, premium then mass then new within a group.</summary>
    public static IReadOnlyList<DemoBrand> All { get; } = Build();

    /// <summary>The brands that sell in a top-level category; empty for an unknown one.</summary>
    public static IReadOnlyList<DemoBrand> In(string top)
    {
        var result = new List<DemoBrand>();
        foreach (var brand in All)
        {
            if (brand.Top == top)
            {
                result.Add(brand);
            }
        }

        return result;
    }

    private static List<DemoBrand> Build()
    {
        // top, premium, mass, new to market
        (string Top, string[] Premium, string[] Mass, string[] New)[] groups =
        [
            ("Sports", ["Summitra", "Glacierforge"], ["Trailbee", "Pinewhirl", "Kestrelline"], ["Frostamber", "Velovanta"]),
            ("Electronics", ["Auralith", "Lumetrix"], ["Voltbee", "Ohmtree", "Bytelark"], ["Quorivo", "Sonquill"]),
            ("Home", ["Hearthwell", "Maisonova"], ["Homelark", "Cozibo", "Tidynest"], ["Kettlewren", "Ovenwick"]),
            ("Beauty", ["Velvessa", "Orchidine"], ["Glowbee", "Purelark", "Dewmorrow"], ["Lumisk", "Petalune"]),
            ("Kids", ["Tinkerwood", "Nestlebloom"], ["Playbee", "Toddlytown", "Bricklark"], ["Wigglewick", "Moonpebble"]),
            ("Fashion", ["Corvanne", "Marlowfinch"], ["Threadbee", "Basicly", "Stitchlark"], ["Aurelune", "Wovenfox"]),
            ("Garden", ["Greenhollow", "Terravell"], ["Sproutbee", "Yardlark", "Emberbee"], ["Mossquill", "Fernwick"]),
            ("Books", ["Bramblequill Press", "Oakash Editions"], ["Pagebee", "Paperlark", "Readwell Pocket"], ["Nightjar Pages", "Inkmoth"]),
            ("Pets", ["Furrowell", "Whiskerfield"], ["Petbee", "Kibblelark", "Tailwagon"], ["Barkwick", "Purrloom"]),
        ];
        var result = new List<DemoBrand>();
        foreach (var (top, premium, mass, fresh) in groups)
        {
            foreach (var name in premium)
            {
                result.Add(new DemoBrand(name, top, BrandTier.Premium));
            }

            foreach (var name in mass)
            {
                result.Add(new DemoBrand(name, top, BrandTier.Mass));
            }

            foreach (var name in fresh)
            {
                result.Add(new DemoBrand(name, top, BrandTier.NewToMarket));
            }
        }

        return result;
    }
}
