using System.Globalization;
using Ranking.Domain;

namespace Ranking.Demo;

/// <summary>
/// The static part of the demo marketplace (catalog, users and their hidden profiles) plus the columnar lookups the
/// event simulation samples from. Built once per <see cref="DemoMarketplace"/>; immutable afterwards.
/// </summary>
internal sealed class DemoWorld
{
    internal const long DayMs = 86_400_000;
    internal const long HourMs = 3_600_000;
    internal const int NewBrandDays = 60;

    internal static readonly string[] Colours =
        ["black", "white", "grey", "navy", "red", "green", "blue", "orange", "beige", "pink", "yellow", "purple"];

    private static readonly string[] Adjectives =
        ["Pro", "Lite", "Classic", "Ultra", "Compact", "Eco", "Urban", "Essential", "Air", "Max", "Prime", "Flex", "Nova",
         "Core", "Edge", "Zen", "Swift", "Terra", "Aero", "Velvet"];

    // Per top-level category: materials, uses, and how a description names the material ({0}).
    private static readonly Dictionary<string, (string[] Materials, string[] Uses, string Phrase)> TopTraits = new(StringComparer.Ordinal)
    {
        ["Sports"] = (["carbon fibre", "aluminium", "nylon", "polyester", "merino wool", "recycled plastic"],
            ["backcountry days", "weekend trips", "daily training", "beginners", "racing"], "made of {0}"),
        ["Electronics"] = (["aluminium", "plastic", "glass", "silicone", "recycled plastic"],
            ["travel", "the home office", "commuting", "gaming", "content creators"], "made of {0}"),
        ["Home"] = (["stainless steel", "cast iron", "cotton", "linen", "oak", "bamboo", "ceramic"],
            ["everyday cooking", "small apartments", "family homes", "guests", "slow mornings"], "made of {0}"),
        ["Beauty"] = (["glass bottle", "recyclable tube", "aluminium can", "refill pouch"],
            ["sensitive skin", "daily routines", "travel", "dry climates"], "packed in a {0}"),
        ["Kids"] = (["wood", "recycled plastic", "cotton", "felt"],
            ["ages 3 and up", "ages 6 and up", "rainy afternoons", "school days", "long car rides"], "made of {0}"),
        ["Fashion"] = (["cotton", "denim", "wool", "leather", "recycled polyester", "linen"],
            ["city life", "cold mornings", "weekends", "the office", "travel"], "made of {0}"),
        ["Garden"] = (["steel", "cedar", "polypropylene", "cast aluminium", "rubber"],
            ["small balconies", "large lawns", "summer evenings", "raised beds"], "made of {0}"),
        ["Books"] = (["hardcover", "paperback", "flexibound"],
            ["long flights", "book clubs", "bedtime reading", "curious minds"], "a {0} edition"),
        ["Pets"] = (["natural ingredients", "organic ingredients", "recycled materials", "durable nylon"],
            ["puppies", "senior pets", "indoor cats", "active breeds", "small spaces"], "made with {0}"),
    };

    private static readonly string[] Regions = ["North", "South", "East", "West", "Capital"];
    private static readonly string[] AgeBands = ["18-24", "25-34", "35-44", "45-54", "55+"];

    internal DemoWorld(DemoMarketplaceOptions options)
    {
        Options = options;
        Tree = CategoryTree.Default;
        Brands = DemoBrands.All;
        EndMs = options.EndDate.ToUnixTimeMilliseconds();
        Days = options.Days;
        StartMs = EndMs - (Days * DayMs);
        DayMonth = new byte[Days];
        for (var d = 0; d < Days; d++)
        {
            DayMonth[d] = (byte)(DateTimeOffset.FromUnixTimeMilliseconds(StartMs + (d * DayMs)).Month - 1);
        }

        var leafCount = Tree.Leaves.Count;
        LeafComplements = new int[leafCount][];
        for (var l = 0; l < leafCount; l++)
        {
            var complements = Tree.Leaves[l].Complements;
            LeafComplements[l] = new int[complements.Count];
            for (var j = 0; j < complements.Count; j++)
            {
                LeafComplements[l][j] = Tree.IndexOf(complements[j]);
            }
        }

        BuildNodes();
        BuildQueries();
        BuildItems();
        BuildUsers();
        BuildCampaignAndExperiment();
    }

    internal DemoMarketplaceOptions Options { get; }

    internal CategoryTree Tree { get; }

    internal IReadOnlyList<DemoBrand> Brands { get; }

    internal long StartMs { get; }

    internal long EndMs { get; }

    internal int Days { get; }

    /// <summary>Month (0 = January) of each day of the history.</summary>
    internal byte[] DayMonth { get; }

    internal int[][] LeafComplements { get; }

    /// <summary>Hobby nodes: the top-level categories, then the groups.</summary>
    internal InterestNode[] Nodes { get; private set; } = [];

    /// <summary>Every leaf, weighted by season: where exploration goes.</summary>
    internal InterestNode AllLeaves { get; private set; } = null!;

    internal int CampaignNode { get; private set; }

    internal string[] QueryTexts { get; private set; } = [];

    internal QuerySpec[] QuerySpecs { get; private set; } = [];

    /// <summary>Per leaf, the first index into <see cref="QuerySpecs"/>; the leaf's queries end where the next leaf's begin.</summary>
    internal int[] LeafQueryStart { get; private set; } = [];

    internal Item[] Items { get; private set; } = [];

    internal int[] ItemLeaf { get; private set; } = [];

    internal int[] ItemBrand { get; private set; } = [];

    internal int[] ItemColour { get; private set; } = [];

    internal double[] ItemPrice { get; private set; } = [];

    internal LeafItems[] LeafIndex { get; private set; } = [];

    internal User[] Users { get; private set; } = [];

    internal DemoUserProfile[] Profiles { get; private set; } = [];

    internal int[][] UserHobbyNodes { get; private set; } = [];

    internal long[] UserSignupMs { get; private set; } = [];

    internal long[] UserChurnMs { get; private set; } = [];

    internal CrmCampaign Campaign { get; private set; } = null!;

    internal long SendMs { get; private set; }

    internal Experiment Experiment { get; private set; } = null!;

    internal long ExperimentStartMs { get; private set; }

    /// <summary>SplitMix64 of the seed and a stream number: independent, reproducible random streams.</summary>
    internal static int StreamSeed(int seed, long stream)
    {
        var z = unchecked(((ulong)(uint)seed << 32) ^ (ulong)stream) + 0x9E3779B97F4A7C15UL;
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        z ^= z >> 31;
        return (int)(z & 0x7FFF_FFFF);
    }

    internal static double Normal(Random rng)
    {
        var u1 = 1.0 - rng.NextDouble();
        var u2 = rng.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }

    internal static double Exponential(Random rng, double mean) => -mean * Math.Log(1.0 - rng.NextDouble());

    internal static double Uniform(Random rng, double min, double max) => min + ((max - min) * rng.NextDouble());

    /// <summary>The variant index the service's own assigner gives the user (the demo experiment has no holdout or targeting).</summary>
    internal static int VariantOf(Experiment experiment, string userId)
    {
        var variant = Assigner.Assign(experiment, userId).Variant;
        for (var v = 0; v < experiment.Variants.Count; v++)
        {
            if (experiment.Variants[v].Name == variant)
            {
                return v;
            }
        }

        return 0;
    }

    private static readonly Ranking.Experiments.ExperimentAssigner Assigner = new();

    private void BuildNodes()
    {
        var nodes = new List<InterestNode>();
        foreach (var top in Tree.TopLevel)
        {
            nodes.Add(new InterestNode(top, Tree, 0.5));
        }

        foreach (var group in Tree.Groups)
        {
            // Winter sports is the showcase interest of the demo (lifelong interests, complements, the campaign).
            nodes.Add(new InterestNode(group, Tree, group == DemoCampaignRule.PromotedNode ? 5.0 : 1.0));
        }

        Nodes = [.. nodes];
        AllLeaves = new InterestNode("", Tree, 0);
        CampaignNode = nodes.FindIndex(n => n.Path == DemoCampaignRule.PromotedNode);
    }

    private void BuildQueries()
    {
        var texts = new List<string>();
        var specs = new List<QuerySpec>();
        LeafQueryStart = new int[Tree.Leaves.Count + 1];
        for (var l = 0; l < Tree.Leaves.Count; l++)
        {
            LeafQueryStart[l] = specs.Count;
            var leaf = Tree.Leaves[l];
            var noun = leaf.Noun.ToLowerInvariant();
            var name = leaf.Name.ToLowerInvariant();
            specs.Add(new QuerySpec(texts.Count, -1, -1));
            texts.Add(noun);
            if (name != noun)
            {
                specs.Add(new QuerySpec(texts.Count, -1, -1));
                texts.Add(name);
            }

            for (var b = 0; b < Brands.Count; b++)
            {
                if (Brands[b].Top == leaf.Top)
                {
                    specs.Add(new QuerySpec(texts.Count, b, -1));
                    texts.Add($"{Brands[b].Name.ToLowerInvariant()} {noun}");
                }
            }

            for (var c = 0; c < Colours.Length; c++)
            {
                specs.Add(new QuerySpec(texts.Count, -1, c));
                texts.Add($"{Colours[c]} {noun}");
            }
        }

        LeafQueryStart[Tree.Leaves.Count] = specs.Count;
        QueryTexts = [.. texts];
        QuerySpecs = [.. specs];
    }

    private void BuildItems()
    {
        var rng = new Random(StreamSeed(Options.Seed, 1));
        var count = Options.ItemCount;
        var leaves = Tree.Leaves;
        var byTopAndTier = new Dictionary<(string, BrandTier), List<int>>();
        for (var b = 0; b < Brands.Count; b++)
        {
            var key = (Brands[b].Top, Brands[b].Tier);
            if (!byTopAndTier.TryGetValue(key, out var list))
            {
                byTopAndTier[key] = list = [];
            }

            list.Add(b);
        }

        Items = new Item[count];
        ItemLeaf = new int[count];
        ItemBrand = new int[count];
        ItemColour = new int[count];
        ItemPrice = new double[count];
        var created = new long[count];
        var weight = new double[count];
        var newBrandFrom = EndMs - (NewBrandDays * DayMs);
        for (var i = 0; i < count; i++)
        {
            // The first items take one leaf each so that every leaf has stock once there are enough items.
            var l = i < leaves.Count ? i : rng.Next(leaves.Count);
            var leaf = leaves[l];
            var tierRoll = rng.NextDouble();
            var tier = tierRoll < 0.25 ? BrandTier.Premium : tierRoll < 0.92 ? BrandTier.Mass : BrandTier.NewToMarket;
            var candidates = byTopAndTier[(leaf.Top, tier)];
            var b = candidates[rng.Next(candidates.Count)];
            var brand = Brands[b];
            var (materials, uses, phrase) = TopTraits[leaf.Top];
            var colour = rng.Next(Colours.Length);
            var material = materials[rng.Next(materials.Length)];
            var use = uses[rng.Next(uses.Length)];
            var adjective = Adjectives[rng.Next(Adjectives.Length)];

            var (fMin, fMax) = brand.PriceFactor;
            var price = Uniform(rng, leaf.MinPrice, leaf.MaxPrice) * Uniform(rng, fMin, fMax);
            price = price >= 10 ? Math.Floor(price) + 0.99 : Math.Round(price, 2);
            var margin = Math.Clamp(leaf.Margin + brand.MarginShift + (0.03 * Normal(rng)), 0.03, 0.85);
            double? cost = rng.NextDouble() < 0.03 ? null : Math.Round(price * (1 - margin), 2);
            var inStock = rng.NextDouble() >= 0.05;
            long createdMs;
            if (tier == BrandTier.NewToMarket)
            {
                createdMs = newBrandFrom + (long)(rng.NextDouble() * (NewBrandDays - 1) * DayMs);
            }
            else if (rng.NextDouble() < 0.65)
            {
                createdMs = StartMs - (long)(rng.NextDouble() * 730 * DayMs);
            }
            else
            {
                createdMs = StartMs + (long)(rng.NextDouble() * (Days - 1) * DayMs);
            }

            // Popularity within the leaf: heavy-tailed, new brands pushed a little (launch promotion).
            weight[i] = Math.Exp(Normal(rng)) * (tier == BrandTier.NewToMarket ? 1.5 : 1.0);
            var code = string.Create(CultureInfo.InvariantCulture,
                $"{(char)('A' + rng.Next(26))}{(char)('A' + rng.Next(26))}-{rng.Next(100, 1000)}");
            var nounLower = leaf.Noun.ToLowerInvariant();
            var tail = tier switch
            {
                BrandTier.Premium => $"A premium pick from {brand.Name}.",
                BrandTier.Mass => "Good value at an everyday price.",
                _ => $"From {brand.Name}, new to the marketplace.",
            };
            Items[i] = new Item
            {
                Id = string.Create(CultureInfo.InvariantCulture, $"item-{i:D6}"),
                Title = $"{brand.Name} {adjective} {leaf.Noun} {code}",
                Description = $"{adjective} {nounLower} in {Colours[colour]}, {string.Format(CultureInfo.InvariantCulture, phrase, material)}. Designed for {use}. {tail}",
                Category = leaf.Path,
                Brand = brand.Name,
                Price = price,
                Cost = cost,
                InStock = inStock,
                CreatedAt = DateTimeOffset.FromUnixTimeMilliseconds(createdMs),
                Attributes = new Dictionary<string, string>(StringComparer.Ordinal)
                {
                    ["colour"] = Colours[colour],
                    ["material"] = material,
                },
            };
            ItemLeaf[i] = l;
            ItemBrand[i] = b;
            ItemColour[i] = colour;
            ItemPrice[i] = price;
            created[i] = createdMs;
        }

        var perLeaf = new List<int>[leaves.Count];
        for (var l = 0; l < leaves.Count; l++)
        {
            perLeaf[l] = [];
        }

        for (var i = 0; i < count; i++)
        {
            perLeaf[ItemLeaf[i]].Add(i);
        }

        LeafIndex = new LeafItems[leaves.Count];
        for (var l = 0; l < leaves.Count; l++)
        {
            var ids = perLeaf[l].ToArray();
            var keys = new long[ids.Length];
            for (var k = 0; k < ids.Length; k++)
            {
                keys[k] = created[ids[k]];
            }

            Array.Sort(keys, ids);
            var cumulative = new double[ids.Length];
            var sum = 0.0;
            for (var k = 0; k < ids.Length; k++)
            {
                sum += weight[ids[k]];
                cumulative[k] = sum;
            }

            var minPrice = double.MaxValue;
            var maxPrice = 0.0;
            foreach (var id in ids)
            {
                minPrice = Math.Min(minPrice, ItemPrice[id]);
                maxPrice = Math.Max(maxPrice, ItemPrice[id]);
            }

            LeafIndex[l] = new LeafItems(ids, keys, cumulative, minPrice, maxPrice);
        }
    }

    private void BuildUsers()
    {
        var rng = new Random(StreamSeed(Options.Seed, 2));
        var count = Options.UserCount;
        Users = new User[count];
        Profiles = new DemoUserProfile[count];
        UserHobbyNodes = new int[count][];
        UserSignupMs = new long[count];
        UserChurnMs = new long[count];
        var hobbyTotal = 0.0;
        foreach (var node in Nodes)
        {
            hobbyTotal += node.HobbyWeight;
        }

        var picked = new List<int>(3);
        for (var u = 0; u < count; u++)
        {
            var hobbyRoll = rng.NextDouble();
            var hobbyCount = hobbyRoll < 0.45 ? 1 : hobbyRoll < 0.8 ? 2 : 3;
            picked.Clear();
            for (var attempt = 0; picked.Count < hobbyCount && attempt < 20; attempt++)
            {
                var x = rng.NextDouble() * hobbyTotal;
                var n = 0;
                while (n < Nodes.Length - 1 && x >= Nodes[n].HobbyWeight)
                {
                    x -= Nodes[n].HobbyWeight;
                    n++;
                }

                var overlaps = false;
                foreach (var p in picked)
                {
                    overlaps |= CategoryTree.IsUnder(Nodes[n].Path, Nodes[p].Path) || CategoryTree.IsUnder(Nodes[p].Path, Nodes[n].Path);
                }

                if (!overlaps)
                {
                    picked.Add(n);
                }
            }

            var weights = new double[picked.Count];
            var weightSum = 0.0;
            for (var h = 0; h < weights.Length; h++)
            {
                weights[h] = Uniform(rng, 0.5, 1.5);
                weightSum += weights[h];
            }

            var hobbies = new DemoHobby[picked.Count];
            for (var h = 0; h < hobbies.Length; h++)
            {
                hobbies[h] = new DemoHobby(Nodes[picked[h]].Path, weights[h] / weightSum);
            }

            var exploration = Uniform(rng, 0.05, 0.2);
            var activity = 0.08 * Math.Exp(0.8 * Normal(rng));
            var priceSensitivity = Math.Clamp(0.45 + (0.22 * Normal(rng)), 0, 1);
            var searchPropensity = Uniform(rng, 0.15, 0.5);
            var hourRoll = rng.NextDouble();
            var hour = hourRoll < 0.6 ? rng.Next(19, 23) : hourRoll < 0.85 ? rng.Next(11, 15) : rng.Next(6, 10);
            var signupMs = rng.NextDouble() < 0.55
                ? StartMs - (long)(rng.NextDouble() * 1095 * DayMs)
                : StartMs + (long)(rng.NextDouble() * (Days - 7) * DayMs);
            signupMs -= signupMs % 1000;
            var churnMs = long.MaxValue;
            if (rng.NextDouble() < 0.2)
            {
                var from = Math.Max(signupMs, StartMs) + (30 * DayMs);
                if (from < EndMs)
                {
                    churnMs = from + (long)(rng.NextDouble() * (EndMs - from));
                }
            }

            var region = Regions[rng.Next(Regions.Length)];
            var ageBand = AgeBands[rng.Next(AgeBands.Length)];
            var email = rng.NextDouble() < 0.7;
            var push = rng.NextDouble() < 0.4;
            var sms = rng.NextDouble() < 0.15;
            var id = string.Create(CultureInfo.InvariantCulture, $"user-{u:D5}");
            var signup = DateTimeOffset.FromUnixTimeMilliseconds(signupMs);
            Users[u] = new User
            {
                Id = id,
                Attributes = new Dictionary<string, string>(StringComparer.Ordinal)
                {
                    ["region"] = region,
                    ["ageBand"] = ageBand,
                    ["signupDate"] = signup.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                },
                Consent = new Dictionary<string, bool>(StringComparer.Ordinal)
                {
                    [CrmChannels.Email] = email,
                    [CrmChannels.Push] = push,
                    [CrmChannels.Sms] = sms,
                },
            };
            Profiles[u] = new DemoUserProfile
            {
                Index = u,
                UserId = id,
                Hobbies = hobbies,
                Exploration = exploration,
                ActivityLevel = activity,
                PriceSensitivity = priceSensitivity,
                SearchPropensity = searchPropensity,
                PreferredHour = hour,
                SignupAt = signup,
                ChurnAt = churnMs == long.MaxValue ? null : DateTimeOffset.FromUnixTimeMilliseconds(churnMs),
            };
            UserHobbyNodes[u] = [.. picked];
            UserSignupMs[u] = signupMs;
            UserChurnMs[u] = churnMs;
        }
    }

    private void BuildCampaignAndExperiment()
    {
        // The latest 5 December at least 30 days before the end (and 30 days after the start), 09:00 UTC;
        // with a short history that has no such December, the middle of the history.
        var end = DateTimeOffset.FromUnixTimeMilliseconds(EndMs);
        var send = new DateTimeOffset(end.Year, 12, 5, 9, 0, 0, TimeSpan.Zero);
        while (send.ToUnixTimeMilliseconds() > EndMs - (30 * DayMs))
        {
            send = send.AddYears(-1);
        }

        if (send.ToUnixTimeMilliseconds() < StartMs + (30 * DayMs))
        {
            var middle = DateTimeOffset.FromUnixTimeMilliseconds(StartMs + (Days / 2 * DayMs));
            send = new DateTimeOffset(middle.Year, middle.Month, middle.Day, 9, 0, 0, TimeSpan.Zero);
        }

        SendMs = send.ToUnixTimeMilliseconds();
        Campaign = new CrmCampaign
        {
            Id = string.Create(CultureInfo.InvariantCulture, $"camp-winter-{send.Year}"),
            Name = "Winter gear week",
            Channel = CrmChannels.Email,
            StartedAt = send,
            Description = "E-mail promoting Sports/Winter gear to every user with e-mail consent; 50/50 random holdout. "
                + "Responds most: winter-sports fans active in the last 30 days; bargain hunters respond weakly; "
                + "frequent shoppers without the interest respond negatively.",
        };

        ExperimentStartMs = EndMs - (28 * DayMs);
        Experiment = new Experiment
        {
            Name = "home-ranker-v2",
            Salt = "home-ranker-v2-5d1c",
            Layer = "home",
            Variants = [new ExperimentVariant("control", 0.5), new ExperimentVariant("v2", 0.5)],
            CreatedAt = DateTimeOffset.FromUnixTimeMilliseconds(ExperimentStartMs),
            Status = ExperimentStatus.Running,
            StartedAt = DateTimeOffset.FromUnixTimeMilliseconds(ExperimentStartMs),
        };
    }
}

/// <summary>A search query the demo users type: its text and what it filters on (-1 for nothing).</summary>
internal readonly record struct QuerySpec(int Text, int Brand, int Colour);

/// <summary>The items of one leaf in creation order, with cumulative popularity for sampling among those that exist.</summary>
internal sealed class LeafItems(int[] items, long[] createdMs, double[] cumulative, double minPrice, double maxPrice)
{
    public int[] Items { get; } = items;

    public long[] CreatedMs { get; } = createdMs;

    public double[] Cumulative { get; } = cumulative;

    public double MinPrice { get; } = minPrice;

    public double MaxPrice { get; } = maxPrice;

    /// <summary>How many items exist at <paramref name="ms"/> (created at or before it).</summary>
    public int AvailableAt(long ms)
    {
        int lo = 0, hi = CreatedMs.Length;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (CreatedMs[mid] <= ms)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }

    /// <summary>A popularity-weighted draw among the first <paramref name="available"/> items (available &gt; 0).</summary>
    public int Draw(Random rng, int available)
    {
        var x = rng.NextDouble() * Cumulative[available - 1];
        int lo = 0, hi = available - 1;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (Cumulative[mid] > x)
            {
                hi = mid;
            }
            else
            {
                lo = mid + 1;
            }
        }

        return Items[lo];
    }
}

/// <summary>A node of the tree as an interest: its leaves and, per month, the season-weighted leaf distribution.</summary>
internal sealed class InterestNode
{
    /// <param name="path">A top-level category or group; "" for the whole tree.</param>
    public InterestNode(string path, CategoryTree tree, double hobbyWeight)
    {
        Path = path;
        HobbyWeight = hobbyWeight;
        var leaves = new List<int>();
        for (var l = 0; l < tree.Leaves.Count; l++)
        {
            if (path.Length == 0 || CategoryTree.IsUnder(tree.Leaves[l].Path, path))
            {
                leaves.Add(l);
            }
        }

        Leaves = [.. leaves];
        Season = new double[12];
        Cumulative = new double[12][];
        for (var m = 0; m < 12; m++)
        {
            var cumulative = new double[Leaves.Length];
            var sum = 0.0;
            for (var k = 0; k < Leaves.Length; k++)
            {
                sum += Seasonality.Multiplier(tree.Leaves[Leaves[k]].Season, m + 1);
                cumulative[k] = sum;
            }

            Cumulative[m] = cumulative;
            Season[m] = sum / Leaves.Length;
        }
    }

    public string Path { get; }

    public double HobbyWeight { get; }

    public int[] Leaves { get; }

    /// <summary>Mean season multiplier of the node's leaves per month (0 = January); averages 1 over the year.</summary>
    public double[] Season { get; }

    public double[][] Cumulative { get; }

    /// <summary>A leaf of the node, drawn by its season in <paramref name="month"/> (0 = January).</summary>
    public int DrawLeaf(Random rng, int month)
    {
        var cumulative = Cumulative[month];
        var x = rng.NextDouble() * cumulative[^1];
        var k = 0;
        while (k < cumulative.Length - 1 && cumulative[k] <= x)
        {
            k++;
        }

        return Leaves[k];
    }
}
