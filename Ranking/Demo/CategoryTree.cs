namespace Ranking.Demo;

/// <summary>When in the year a category sells; each profile's twelve monthly multipliers average 1.</summary>
public enum SeasonProfile
{
    /// <summary>The same all year.</summary>
    Flat,

    /// <summary>Winter sports: peak December to February, pre-season in October and November, dead in summer.</summary>
    Winter,

    /// <summary>Swimwear, camping, grilling: peak June to August.</summary>
    Summer,

    /// <summary>Gardening: peak April to June.</summary>
    Spring,

    /// <summary>Gifts (toys, headphones, perfume): peak November and December.</summary>
    Holiday,

    /// <summary>School and study: peak August and September.</summary>
    BackToSchool,

    /// <summary>Warm clothes and bedding: October to February, milder than <see cref="Winter"/>.</summary>
    ColdSeason,
}

/// <summary>The monthly demand multipliers of each <see cref="SeasonProfile"/>.</summary>
public static class Seasonality
{
    private static readonly double[][] Profiles =
    [
        [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
        [2.4, 1.9, 0.9, 0.3, 0.15, 0.1, 0.1, 0.15, 0.4, 0.9, 1.8, 2.9],
        [0.3, 0.35, 0.6, 0.9, 1.5, 2.2, 2.4, 1.9, 0.9, 0.4, 0.25, 0.3],
        [0.3, 0.4, 1.0, 2.2, 2.6, 2.0, 1.3, 0.8, 0.5, 0.4, 0.25, 0.25],
        [0.7, 0.7, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.9, 1.0, 1.9, 2.0],
        [0.7, 0.7, 0.8, 0.8, 0.8, 0.9, 1.3, 2.2, 1.6, 0.8, 0.7, 0.7],
        [1.5, 1.2, 0.9, 0.6, 0.5, 0.4, 0.4, 0.5, 0.9, 1.4, 1.7, 2.0],
    ];

    /// <summary>The demand multiplier of <paramref name="profile"/> in <paramref name="month"/> (1 = January ... 12 = December).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The month is not 1..12.</exception>
    public static double Multiplier(SeasonProfile profile, int month)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(month, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(month, 12);
        return Profiles[(int)profile][month - 1];
    }
}

/// <summary>A leaf category of the demo marketplace: what its items cost, earn and when they sell.</summary>
/// <param name="Path">Full path, for example <c>Sports/Winter/Snowboards</c>.</param>
/// <param name="Noun">The singular noun item titles use ("Snowboard").</param>
/// <param name="MinPrice">Lowest list price of a mass-tier item, before the brand tier factor.</param>
/// <param name="MaxPrice">Highest list price before the brand tier factor.</param>
/// <param name="Margin">Typical margin share of the price (0.3 = 30 %), before the brand tier shift.</param>
/// <param name="Complements">Paths of the leaves bought after an order here (boots and bindings after a snowboard).</param>
/// <param name="ReplenishDays">Consumables (pet food, shampoo) are bought again after about this many days; 0 for none.</param>
public sealed record CategoryLeaf(
    string Path,
    string Noun,
    double MinPrice,
    double MaxPrice,
    double Margin,
    SeasonProfile Season,
    IReadOnlyList<string> Complements,
    int ReplenishDays = 0)
{
    /// <summary>The last segment of the path ("Snowboards").</summary>
    public string Name => Path[(Path.LastIndexOf('/') + 1)..];

    /// <summary>The first segment of the path ("Sports").</summary>
    public string Top => Path[..Path.IndexOf('/')];

    /// <summary>The first two segments of the path ("Sports/Winter").</summary>
    public string Group => Path[..Path.LastIndexOf('/')];
}

/// <summary>
/// The category tree of the demo marketplace: nine top-level categories (Sports, Electronics, Home, Beauty, Kids,
/// Fashion, Garden, Books, Pets), each split into groups (<c>Sports/Winter</c>) and then leaves
/// (<c>Sports/Winter/Snowboards</c>). Items sit only on leaves.
/// </summary>
public sealed class CategoryTree
{
    private readonly Dictionary<string, int> _leafIndex;

    private CategoryTree(IReadOnlyList<CategoryLeaf> leaves)
    {
        Leaves = leaves;
        _leafIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        var tops = new List<string>();
        var groups = new List<string>();
        for (var i = 0; i < leaves.Count; i++)
        {
            var leaf = leaves[i];
            if (!_leafIndex.TryAdd(leaf.Path, i))
            {
                throw new InvalidOperationException($"The demo category '{leaf.Path}' is listed twice.");
            }

            if (!tops.Contains(leaf.Top))
            {
                tops.Add(leaf.Top);
            }

            if (!groups.Contains(leaf.Group))
            {
                groups.Add(leaf.Group);
            }
        }

        foreach (var leaf in leaves)
        {
            foreach (var complement in leaf.Complements)
            {
                if (!_leafIndex.ContainsKey(complement))
                {
                    throw new InvalidOperationException($"The complement '{complement}' of '{leaf.Path}' is not a leaf.");
                }
            }
        }

        TopLevel = tops;
        Groups = groups;
    }

    /// <summary>The tree every demo marketplace uses.</summary>
    public static CategoryTree Default { get; } = new(BuildLeaves());

    /// <summary>Every leaf, in a fixed order (the order generation uses).</summary>
    public IReadOnlyList<CategoryLeaf> Leaves { get; }

    /// <summary>The top-level categories ("Sports", ...), in tree order.</summary>
    public IReadOnlyList<string> TopLevel { get; }

    /// <summary>The mid-level groups ("Sports/Winter", ...), in tree order.</summary>
    public IReadOnlyList<string> Groups { get; }

    /// <summary>True when <paramref name="path"/> is exactly a leaf path (case-sensitive).</summary>
    public bool IsLeaf(string path) => _leafIndex.ContainsKey(path);

    /// <summary>The index of a leaf in <see cref="Leaves"/>, or -1 when the path is not a leaf.</summary>
    public int IndexOf(string path) => _leafIndex.TryGetValue(path, out var i) ? i : -1;

    /// <summary>The leaf with this path; throws <see cref="KeyNotFoundException"/> when there is none.</summary>
    public CategoryLeaf this[string path] => Leaves[_leafIndex[path]];

    /// <summary>
    /// True when <paramref name="path"/> lies under <paramref name="node"/> (a top-level category, a group or a
    /// leaf): <c>Sports/Winter/Skis</c> is under <c>Sports</c> and <c>Sports/Winter</c> but not <c>Sports/Win</c>.
    /// </summary>
    public static bool IsUnder(string path, string node) =>
        path.StartsWith(node, StringComparison.Ordinal) && (path.Length == node.Length || path[node.Length] == '/');

    /// <summary>The indices of the leaves under a node, in tree order; empty for an unknown node.</summary>
    public IReadOnlyList<int> LeavesUnder(string node)
    {
        var result = new List<int>();
        for (var i = 0; i < Leaves.Count; i++)
        {
            if (IsUnder(Leaves[i].Path, node))
            {
                result.Add(i);
            }
        }

        return result;
    }

    private static List<CategoryLeaf> BuildLeaves()
    {
        const SeasonProfile flat = SeasonProfile.Flat, winter = SeasonProfile.Winter, summer = SeasonProfile.Summer,
            spring = SeasonProfile.Spring, holiday = SeasonProfile.Holiday, school = SeasonProfile.BackToSchool,
            cold = SeasonProfile.ColdSeason;
        return
        [
            // Sports: the winter group is the showcase of lifelong interests and complements.
            new("Sports/Winter/Snowboards", "Snowboard", 250, 700, 0.28, winter,
                ["Sports/Winter/Snowboard Boots", "Sports/Winter/Snowboard Bindings", "Sports/Winter/Helmets", "Sports/Winter/Goggles"]),
            new("Sports/Winter/Snowboard Boots", "Snowboard Boots", 120, 350, 0.34, winter, ["Sports/Winter/Thermal Base Layers"]),
            new("Sports/Winter/Snowboard Bindings", "Snowboard Bindings", 100, 300, 0.32, winter, ["Sports/Winter/Snowboard Boots"]),
            new("Sports/Winter/Skis", "Skis", 300, 900, 0.26, winter,
                ["Sports/Winter/Ski Boots", "Sports/Winter/Ski Poles", "Sports/Winter/Helmets", "Sports/Winter/Goggles"]),
            new("Sports/Winter/Ski Boots", "Ski Boots", 150, 500, 0.30, winter, ["Sports/Winter/Ski Poles", "Sports/Winter/Thermal Base Layers"]),
            new("Sports/Winter/Ski Poles", "Ski Poles", 30, 120, 0.42, winter, []),
            new("Sports/Winter/Helmets", "Helmet", 60, 250, 0.40, winter, ["Sports/Winter/Goggles"]),
            new("Sports/Winter/Goggles", "Goggles", 40, 200, 0.45, winter, ["Sports/Winter/Helmets"]),
            new("Sports/Winter/Thermal Base Layers", "Thermal Base Layer", 25, 110, 0.50, winter, []),
            new("Sports/Cycling/Bikes", "Bike", 400, 2500, 0.22, summer,
                ["Sports/Cycling/Bike Helmets", "Sports/Cycling/Bike Lights", "Sports/Cycling/Bike Locks"]),
            new("Sports/Cycling/Bike Helmets", "Bike Helmet", 40, 200, 0.42, summer, []),
            new("Sports/Cycling/Bike Lights", "Bike Light", 15, 90, 0.48, flat, []),
            new("Sports/Cycling/Bike Locks", "Bike Lock", 20, 120, 0.45, flat, []),
            new("Sports/Running/Running Shoes", "Running Shoes", 60, 220, 0.38, flat, ["Sports/Running/Running Socks", "Sports/Running/Sports Watches"]),
            new("Sports/Running/Running Socks", "Running Socks", 8, 30, 0.55, flat, [], ReplenishDays: 120),
            new("Sports/Running/Sports Watches", "Sports Watch", 80, 500, 0.30, holiday, []),
            new("Sports/Camping/Tents", "Tent", 80, 700, 0.33, summer, ["Sports/Camping/Sleeping Bags", "Sports/Camping/Camping Stoves"]),
            new("Sports/Camping/Sleeping Bags", "Sleeping Bag", 40, 300, 0.38, summer, ["Sports/Camping/Tents"]),
            new("Sports/Camping/Camping Stoves", "Camping Stove", 30, 180, 0.36, summer, []),
            new("Sports/Swim/Swimwear", "Swimsuit", 20, 120, 0.52, summer, ["Sports/Swim/Swim Goggles"]),
            new("Sports/Swim/Swim Goggles", "Swim Goggles", 10, 50, 0.55, summer, []),

            // Electronics: thin margins on devices, fat margins on accessories.
            new("Electronics/Audio/Headphones", "Headphones", 30, 450, 0.24, holiday, ["Electronics/Phones/Chargers"]),
            new("Electronics/Audio/Portable Speakers", "Portable Speaker", 30, 300, 0.26, holiday, []),
            new("Electronics/Cameras/Cameras", "Camera", 300, 2500, 0.16, holiday,
                ["Electronics/Cameras/Memory Cards", "Electronics/Cameras/Camera Bags", "Electronics/Cameras/Tripods"]),
            new("Electronics/Cameras/Memory Cards", "Memory Card", 10, 90, 0.40, flat, []),
            new("Electronics/Cameras/Camera Bags", "Camera Bag", 30, 200, 0.45, flat, []),
            new("Electronics/Cameras/Tripods", "Tripod", 25, 250, 0.40, flat, []),
            new("Electronics/Phones/Smartphones", "Smartphone", 200, 1400, 0.12, holiday,
                ["Electronics/Phones/Phone Cases", "Electronics/Phones/Chargers", "Electronics/Phones/Screen Protectors"]),
            new("Electronics/Phones/Phone Cases", "Phone Case", 8, 60, 0.60, flat, []),
            new("Electronics/Phones/Chargers", "Charger", 10, 70, 0.50, flat, []),
            new("Electronics/Phones/Screen Protectors", "Screen Protector", 5, 30, 0.65, flat, []),
            new("Electronics/Computers/Laptops", "Laptop", 400, 2800, 0.10, school, ["Electronics/Computers/Laptop Bags", "Electronics/Computers/Computer Mice"]),
            new("Electronics/Computers/Laptop Bags", "Laptop Bag", 25, 150, 0.48, school, []),
            new("Electronics/Computers/Computer Mice", "Computer Mouse", 10, 120, 0.42, flat, []),

            new("Home/Kitchen/Cookware", "Pan Set", 30, 400, 0.40, holiday, ["Home/Kitchen/Kitchen Utensils"]),
            new("Home/Kitchen/Kitchen Utensils", "Utensil Set", 5, 60, 0.50, flat, []),
            new("Home/Kitchen/Coffee Makers", "Coffee Maker", 40, 900, 0.28, holiday, ["Home/Kitchen/Coffee Grinders"]),
            new("Home/Kitchen/Coffee Grinders", "Coffee Grinder", 25, 300, 0.33, flat, []),
            new("Home/Bedding/Duvets", "Duvet", 40, 300, 0.45, cold, ["Home/Bedding/Duvet Covers", "Home/Bedding/Pillows"]),
            new("Home/Bedding/Duvet Covers", "Duvet Cover", 25, 150, 0.50, flat, ["Home/Bedding/Pillows"]),
            new("Home/Bedding/Pillows", "Pillow", 15, 120, 0.50, flat, []),
            new("Home/Furniture/Desks", "Desk", 100, 900, 0.30, school, ["Home/Furniture/Office Chairs", "Home/Lighting/Desk Lamps"]),
            new("Home/Furniture/Office Chairs", "Office Chair", 80, 800, 0.32, school, []),
            new("Home/Lighting/Desk Lamps", "Desk Lamp", 15, 150, 0.44, flat, []),

            new("Beauty/Skincare/Moisturizers", "Moisturizer", 8, 90, 0.62, flat, [], ReplenishDays: 60),
            new("Beauty/Skincare/Sunscreen", "Sunscreen", 8, 45, 0.58, summer, []),
            new("Beauty/Skincare/Cleansers", "Cleanser", 6, 50, 0.60, flat, ["Beauty/Skincare/Moisturizers"], ReplenishDays: 60),
            new("Beauty/Haircare/Shampoo", "Shampoo", 5, 40, 0.55, flat, ["Beauty/Haircare/Conditioner"], ReplenishDays: 45),
            new("Beauty/Haircare/Conditioner", "Conditioner", 5, 40, 0.55, flat, [], ReplenishDays: 45),
            new("Beauty/Haircare/Hair Dryers", "Hair Dryer", 25, 400, 0.30, holiday, ["Beauty/Haircare/Hair Brushes"]),
            new("Beauty/Haircare/Hair Brushes", "Hair Brush", 8, 60, 0.52, flat, []),
            new("Beauty/Fragrance/Perfume", "Eau de Parfum", 30, 250, 0.55, holiday, []),

            new("Kids/Toys/Building Sets", "Building Set", 15, 250, 0.38, holiday, []),
            new("Kids/Toys/Dolls", "Doll", 10, 120, 0.40, holiday, []),
            new("Kids/Toys/Board Games", "Board Game", 15, 80, 0.40, holiday, []),
            new("Kids/Baby/Strollers", "Stroller", 150, 1200, 0.25, flat, ["Kids/Baby/Car Seats"]),
            new("Kids/Baby/Car Seats", "Car Seat", 80, 500, 0.27, flat, []),
            new("Kids/School/Backpacks", "Backpack", 20, 120, 0.45, school, ["Kids/School/Pencil Cases"]),
            new("Kids/School/Pencil Cases", "Pencil Case", 4, 30, 0.55, school, []),

            new("Fashion/Outerwear/Winter Jackets", "Winter Jacket", 80, 600, 0.55, cold, ["Fashion/Accessories/Gloves", "Fashion/Accessories/Scarves"]),
            new("Fashion/Outerwear/Raincoats", "Raincoat", 40, 250, 0.52, flat, []),
            new("Fashion/Accessories/Gloves", "Gloves", 10, 80, 0.60, cold, []),
            new("Fashion/Accessories/Scarves", "Scarf", 10, 120, 0.60, cold, []),
            new("Fashion/Accessories/Sunglasses", "Sunglasses", 15, 300, 0.62, summer, []),
            new("Fashion/Footwear/Sneakers", "Sneakers", 50, 250, 0.45, flat, []),
            new("Fashion/Footwear/Sandals", "Sandals", 20, 120, 0.50, summer, []),
            new("Fashion/Clothing/T-Shirts", "T-Shirt", 10, 60, 0.60, summer, []),
            new("Fashion/Clothing/Jeans", "Jeans", 30, 180, 0.55, flat, []),

            new("Garden/Grilling/Grills", "Grill", 150, 1500, 0.28, summer,
                ["Garden/Grilling/Grill Tools", "Garden/Grilling/Charcoal", "Garden/Grilling/Grill Covers"]),
            new("Garden/Grilling/Grill Tools", "Grill Tool Set", 15, 90, 0.50, summer, []),
            new("Garden/Grilling/Charcoal", "Charcoal", 8, 40, 0.35, summer, [], ReplenishDays: 30),
            new("Garden/Grilling/Grill Covers", "Grill Cover", 20, 80, 0.55, summer, []),
            new("Garden/Plants/Seeds", "Seed Mix", 2, 15, 0.60, spring, ["Garden/Plants/Planters"]),
            new("Garden/Plants/Planters", "Planter", 10, 150, 0.50, spring, []),
            new("Garden/Tools/Lawn Mowers", "Lawn Mower", 150, 1200, 0.26, spring, ["Garden/Tools/Garden Gloves"]),
            new("Garden/Tools/Garden Gloves", "Garden Gloves", 5, 30, 0.55, spring, []),
            new("Garden/Tools/Hoses", "Hose", 20, 120, 0.45, spring, []),
            new("Garden/Furniture/Patio Sets", "Patio Set", 200, 2000, 0.35, spring, []),

            new("Books/Fiction/Novels", "Novel", 8, 30, 0.30, flat, []),
            new("Books/Fiction/Thrillers", "Thriller", 8, 30, 0.30, summer, []),
            new("Books/Nonfiction/Cookbooks", "Cookbook", 15, 50, 0.32, holiday, []),
            new("Books/Nonfiction/Travel Guides", "Travel Guide", 12, 40, 0.34, summer, []),
            new("Books/Children/Picture Books", "Picture Book", 6, 25, 0.33, holiday, []),

            new("Pets/Dogs/Dog Food", "Dog Food", 15, 90, 0.22, flat, ["Pets/Dogs/Dog Treats"], ReplenishDays: 30),
            new("Pets/Dogs/Dog Treats", "Dog Treats", 4, 25, 0.40, flat, [], ReplenishDays: 30),
            new("Pets/Dogs/Dog Beds", "Dog Bed", 25, 200, 0.48, cold, []),
            new("Pets/Dogs/Leashes", "Leash", 8, 60, 0.55, flat, []),
            new("Pets/Cats/Cat Food", "Cat Food", 10, 70, 0.22, flat, ["Pets/Cats/Cat Litter"], ReplenishDays: 30),
            new("Pets/Cats/Cat Litter", "Cat Litter", 8, 40, 0.25, flat, [], ReplenishDays: 30),
            new("Pets/Cats/Scratching Posts", "Scratching Post", 20, 150, 0.45, flat, []),
            new("Pets/Fish/Aquariums", "Aquarium", 40, 600, 0.35, flat, ["Pets/Fish/Aquarium Filters"]),
            new("Pets/Fish/Aquarium Filters", "Aquarium Filter", 15, 120, 0.40, flat, []),
        ];
    }
}
