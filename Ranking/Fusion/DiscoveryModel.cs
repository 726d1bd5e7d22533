using System.Buffers;
using System.Runtime.InteropServices;
using Ranking.Candidates;
using Ranking.Data;

namespace Ranking.Fusion;

/// <summary>Settings of <see cref="DiscoveryModel"/>.</summary>
public sealed record DiscoveryOptions
{
    /// <summary>
    /// The summed event weight at which a user's engagement with a node counts fully (1); less counts in proportion.
    /// With the default weights 5 is one order, so a single view counts 0.2 and an order or a cart and a view 1.
    /// </summary>
    public double SaturationWeight { get; init; } = 5;

    /// <summary>Only a user's this many strongest categories (and brands) form pairs: bounds the quadratic pair count.</summary>
    public int MaxNodesPerUser { get; init; } = 64;

    /// <summary>Pairs engaged by fewer users than this are dropped.</summary>
    public int MinSupport { get; init; } = 3;

    /// <summary>PMI over few users is noisy: the association is PMI · n / (n + this), n the users holding the pair.</summary>
    public double Shrinkage { get; init; } = 5;

    /// <summary>Associated nodes kept per node, best first.</summary>
    public int MaxNeighbours { get; init; } = 30;

    /// <summary>Brands remembered per category, by event weight (<see cref="DiscoveryModel.BestBrands"/>).</summary>
    public int BestBrandsPerCategory { get; init; } = 5;

    /// <summary>Candidates: how many new categories and how many new brands are expanded into items.</summary>
    public int NodesForCandidates { get; init; } = 10;

    /// <summary>Candidates: items taken per expanded node.</summary>
    public int ItemsPerNode { get; init; } = 10;

    /// <summary>Candidates: an item of a new brand outside the categories she engaged with is scored this much lower
    /// (times this factor), so "a new brand in a category you like" comes first.</summary>
    public double OutsideLikedCategoryFactor { get; init; } = 0.5;

    /// <summary>Throws when an option is out of range.</summary>
    /// <exception cref="ArgumentException">A non-positive or non-finite weight, a count below 1, a negative shrinkage, a factor outside [0, 1].</exception>
    public void Validate()
    {
        if (!double.IsFinite(SaturationWeight) || SaturationWeight <= 0)
        {
            throw new ArgumentException($"SaturationWeight must be positive and finite; it was {SaturationWeight}.", nameof(SaturationWeight));
        }

        if (!double.IsFinite(Shrinkage) || Shrinkage < 0)
        {
            throw new ArgumentException($"Shrinkage must be finite and not negative; it was {Shrinkage}.", nameof(Shrinkage));
        }

        if (!double.IsFinite(OutsideLikedCategoryFactor) || OutsideLikedCategoryFactor is < 0 or > 1)
        {
            throw new ArgumentException($"OutsideLikedCategoryFactor must lie in [0, 1]; it was {OutsideLikedCategoryFactor}.", nameof(OutsideLikedCategoryFactor));
        }

        if (MaxNodesPerUser < 2 || MinSupport < 1 || MaxNeighbours < 1 || BestBrandsPerCategory < 0 || NodesForCandidates < 1 || ItemsPerNode < 1)
        {
            throw new ArgumentException(
                "MaxNodesPerUser must be >= 2; MinSupport, MaxNeighbours, NodesForCandidates and ItemsPerNode >= 1; BestBrandsPerCategory >= 0.");
        }
    }
}

/// <summary>Why a <see cref="DiscoveryCandidate"/> is new to the user.</summary>
public enum DiscoveryKind
{
    /// <summary>Its category is one she never had an event in.</summary>
    NewCategory,

    /// <summary>Its brand is one she never had an event with.</summary>
    NewBrand,
}

/// <summary>A category or brand new to the user.</summary>
/// <param name="Node">The category (index into <see cref="ItemTable.Categories"/>) or brand (into <see cref="ItemTable.Brands"/>).</param>
/// <param name="Score">Σ over her engaged nodes of her engagement (0–1) × association; higher is better.</param>
/// <param name="BecauseNode">The engaged node that contributed most.</param>
public readonly record struct DiscoveredNode(int Node, float Score, int BecauseNode);

/// <summary>An item from a category or brand new to the user.</summary>
/// <param name="Item">Dense item index.</param>
/// <param name="Score">The node's score normalised to (0, 1] times the item's standing within the node; higher is better.</param>
/// <param name="Kind">Whether <paramref name="Node"/> is a new category or a new brand.</param>
/// <param name="Node">The new category or brand.</param>
/// <param name="BecauseNode">Her engaged node (of the same kind) that led to it.</param>
public readonly record struct DiscoveryCandidate(int Item, float Score, DiscoveryKind Kind, int Node, int BecauseNode);

/// <summary>
/// Discovery: categories and brands the user has never touched but that sit next to what she likes, learnt from
/// which leaf categories (and which brands) the same users engage with.
/// </summary>
/// <remarks>
/// <para><b>Association.</b> Each user holds each category and brand with a weight x = min(1, Σ event weights /
/// <see cref="DiscoveryOptions.SaturationWeight"/>), so orders and carts count more than views. Over users,
/// n_a = Σ x_a, n_ab = Σ x_a · x_b and N = the users with any node; the association is the shrunk positive PMI
/// log(n_ab · N / (n_a · n_b)) · s / (s + shrinkage), s the users holding both, kept only with s ≥
/// <see cref="DiscoveryOptions.MinSupport"/>. PMI rather than cosine so that a bestseller category is not next to
/// everything.</para>
/// <para><b>New.</b> A category is new when none of her events is on an item of it; a brand when none is on an item of
/// it. Items of unknown category or without a brand take part in neither graph.</para>
/// <para><b>Thread safety.</b> Immutable once trained or loaded; every method may run concurrently.</para>
/// </remarks>
public sealed class DiscoveryModel
{
    private const string ArtifactKind = "discovery";
    private const int ArtifactVersion = 1;

    private readonly DiscoveryOptions _options;
    private readonly int[] _itemCategory;
    private readonly int[] _itemBrand;
    private readonly Graph _categories;
    private readonly Graph _brands;
    private readonly int[] _brandItemOffsets;
    private readonly int[] _brandItems;
    private readonly float[] _brandPopularity;
    private readonly int[] _bestBrandOffsets;
    private readonly int[] _bestBrands;

    private DiscoveryModel(
        DiscoveryOptions options, int[] itemCategory, int[] itemBrand, Graph categories, Graph brands, int[] brandItemOffsets,
        int[] brandItems, float[] brandPopularity, int[] bestBrandOffsets, int[] bestBrands)
    {
        _options = options;
        _itemCategory = itemCategory;
        _itemBrand = itemBrand;
        _categories = categories;
        _brands = brands;
        _brandItemOffsets = brandItemOffsets;
        _brandItems = brandItems;
        _brandPopularity = brandPopularity;
        _bestBrandOffsets = bestBrandOffsets;
        _bestBrands = bestBrands;
    }

    /// <summary>Size of the item index space.</summary>
    public int ItemCount => _itemCategory.Length;

    /// <summary>The settings the model was trained with.</summary>
    public DiscoveryOptions Options => _options;

    /// <summary>Summed event weight of each brand's items over the training log.</summary>
    public ReadOnlySpan<float> BrandPopularity => _brandPopularity;

    /// <summary>The number of catalog items of a brand; 0 for a brand out of range.</summary>
    public int BrandItemCount(int brand) =>
        (uint)brand < (uint)_brandPopularity.Length ? _brandItemOffsets[brand + 1] - _brandItemOffsets[brand] : 0;

    /// <summary>The brands with the most event weight in a category, best first; empty for a category out of range.</summary>
    public ReadOnlySpan<int> BestBrands(int category) =>
        (uint)category < (uint)(_bestBrandOffsets.Length - 1)
            ? _bestBrands.AsSpan(_bestBrandOffsets[category], _bestBrandOffsets[category + 1] - _bestBrandOffsets[category])
            : [];

    /// <summary>The categories most associated with a category, best first (each with <see cref="DiscoveredNode.BecauseNode"/>
    /// = <paramref name="category"/>); empty for one out of range.</summary>
    public IReadOnlyList<DiscoveredNode> CategoryNeighbours(int category) => _categories.Neighbours(category);

    /// <summary>The brands most associated with a brand, best first (each with <see cref="DiscoveredNode.BecauseNode"/>
    /// = <paramref name="brand"/>); empty for one out of range.</summary>
    public IReadOnlyList<DiscoveredNode> BrandNeighbours(int brand) => _brands.Neighbours(brand);

    /// <summary>Learns the category and brand association graphs and the brand statistics from a log.</summary>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    public static DiscoveryModel Train(InteractionLog log, DiscoveryOptions? options = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(log);
        options ??= new DiscoveryOptions();
        options.Validate();
        var items = log.Items;
        var itemCategory = items.CategoryIndex.AsSpan(0, log.ItemCount).ToArray();
        var itemBrand = items.BrandIndex.AsSpan(0, log.ItemCount).ToArray();
        var categoryCount = items.Categories.Count;
        var brandCount = items.Brands.Count;

        var categories = new PairCounter(categoryCount);
        var brands = new PairCounter(brandCount);
        var itemWeight = new float[log.ItemCount];
        var categoryBrandWeight = new Dictionary<long, float>();
        var sat = (float)options.SaturationWeight;
        for (var u = 0; u < log.UserCount; u++)
        {
            if ((u & 0xFF) == 0)
            {
                ct.ThrowIfCancellationRequested();
            }

            for (var r = log.UserOffsets[u]; r < log.UserOffsets[u + 1]; r++)
            {
                var item = log.Item[r];
                if (item < 0)
                {
                    continue;
                }

                var w = Math.Max(0f, log.Weight[r]);
                itemWeight[item] += w;
                categories.Engage(itemCategory[item], w);
                brands.Engage(itemBrand[item], w);
                if (itemCategory[item] >= 0 && itemBrand[item] >= 0)
                {
                    CollectionsMarshal.GetValueRefOrAddDefault(categoryBrandWeight, ((long)itemCategory[item] << 32) | (uint)itemBrand[item], out _) += w;
                }
            }

            categories.EndUser(sat, options.MaxNodesPerUser);
            brands.EndUser(sat, options.MaxNodesPerUser);
        }

        ct.ThrowIfCancellationRequested();
        var categoryGraph = categories.ToGraph(options);
        var brandGraph = brands.ToGraph(options);
        var (brandOffsets, brandItems, brandPopularity) = BrandItems(itemBrand, itemWeight, brandCount);
        var (bestOffsets, best) = BestBrandsByCategory(categoryBrandWeight, categoryCount, options.BestBrandsPerCategory);
        return new DiscoveryModel(options, itemCategory, itemBrand, categoryGraph, brandGraph, brandOffsets, brandItems, brandPopularity, bestOffsets, best);
    }

    /// <summary>
    /// The categories she has no event in, best first (ties by index), scored by Σ over her categories of her
    /// engagement × association. Empty for an empty history, for a history of unknown items, and for k = 0.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="k"/> is negative.</exception>
    public IReadOnlyList<DiscoveredNode> NewCategories(in UserHistory history, int k)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        return Discover(history, _itemCategory, _categories, k);
    }

    /// <summary>
    /// The brands she never had an event with, best first (ties by index), scored by Σ over her brands of her
    /// engagement × association. Empty for an empty history, for a history of unknown items, and for k = 0.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="k"/> is negative.</exception>
    public IReadOnlyList<DiscoveredNode> NewBrands(in UserHistory history, int k)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        return Discover(history, _itemBrand, _brands, k);
    }

    /// <summary>
    /// Items from her best new categories (their popular items; a brand she knows is preferred) and new brands (their
    /// popular items, those in categories she engaged with first: "a new brand in a category you like"). Only items
    /// in stock with a known price; never an item of <paramref name="exclude"/> or an item twice (the better score
    /// wins). Best first, ties by item; empty for a cold user or k = 0.
    /// </summary>
    /// <param name="popularity">Ranks the items within a node (current popularity).</param>
    /// <param name="items">The catalog as it is now: stock and price.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="k"/> is negative.</exception>
    public IReadOnlyList<DiscoveryCandidate> Candidates(
        in UserHistory history, PopularityModel popularity, ItemTable items, int k, ReadOnlySpan<int> exclude = default)
    {
        ArgumentNullException.ThrowIfNull(popularity);
        ArgumentNullException.ThrowIfNull(items);
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        if (k == 0 || history.IsEmpty)
        {
            return [];
        }

        var newCategories = Discover(history, _itemCategory, _categories, _options.NodesForCandidates);
        var newBrands = Discover(history, _itemBrand, _brands, _options.NodesForCandidates);
        if (newCategories.Count == 0 && newBrands.Count == 0)
        {
            return [];
        }

        var excluded = exclude.ToArray();
        Array.Sort(excluded);
        var likedCategories = new bool[_categories.NodeCount + 1];
        var likedBrands = new bool[_brands.NodeCount + 1];
        foreach (var item in history.Items.Span)
        {
            if ((uint)item < (uint)_itemCategory.Length)
            {
                // Index + 1 so that "no category" (-1) has a slot of its own.
                likedCategories[_itemCategory[item] + 1] = true;
                likedBrands[_itemBrand[item] + 1] = true;
            }
        }

        var found = new List<DiscoveryCandidate>();
        var popular = popularity.Scores;
        var buffer = new List<(int Item, float Score)>();
        if (newCategories.Count > 0)
        {
            var top = newCategories[0].Score;
            foreach (var node in newCategories)
            {
                buffer.Clear();
                var best = 0f;
                foreach (var p in popularity.TopInCategory(node.Node, _options.ItemsPerNode * 3))
                {
                    // Normalised before filtering, so excluding an item does not change the others' scores.
                    best = Math.Max(best, p.Score);
                    if (buffer.Count < _options.ItemsPerNode && Sellable(p.Item, items, excluded))
                    {
                        // A new category from a brand she already knows is the easier step.
                        var known = (uint)p.Item < (uint)_itemBrand.Length && _itemBrand[p.Item] >= 0 && likedBrands[_itemBrand[p.Item] + 1];
                        buffer.Add((p.Item, p.Score * (known ? 1f : 0.8f)));
                    }
                }

                foreach (var (item, score) in buffer)
                {
                    found.Add(new DiscoveryCandidate(item, node.Score / top * (0.5f + (0.5f * score / best)), DiscoveryKind.NewCategory, node.Node, node.BecauseNode));
                }
            }
        }

        if (newBrands.Count > 0)
        {
            var top = newBrands[0].Score;
            var outside = (float)_options.OutsideLikedCategoryFactor;
            foreach (var node in newBrands)
            {
                buffer.Clear();
                var best = 0f;
                for (var p = _brandItemOffsets[node.Node]; p < _brandItemOffsets[node.Node + 1]; p++)
                {
                    var item = _brandItems[p];
                    var pop = (uint)item < (uint)popular.Length ? popular[item] : 0f;
                    best = Math.Max(best, pop);
                    if (Sellable(item, items, excluded))
                    {
                        buffer.Add((item, pop));
                    }
                }

                for (var b = 0; b < buffer.Count; b++)
                {
                    var (item, pop) = buffer[b];
                    var standing = best > 0 ? 0.5f + (0.5f * pop / best) : 0.5f;
                    buffer[b] = (item, standing * (likedCategories[_itemCategory[item] + 1] ? 1f : outside));
                }

                buffer.Sort(static (a, b) => a.Score != b.Score ? b.Score.CompareTo(a.Score) : a.Item.CompareTo(b.Item));
                for (var b = 0; b < Math.Min(buffer.Count, _options.ItemsPerNode); b++)
                {
                    found.Add(new DiscoveryCandidate(buffer[b].Item, node.Score / top * buffer[b].Score, DiscoveryKind.NewBrand, node.Node, node.BecauseNode));
                }
            }
        }

        found.Sort(static (a, b) => a.Item != b.Item ? a.Item.CompareTo(b.Item) : b.Score.CompareTo(a.Score));
        var result = new List<DiscoveryCandidate>();
        for (var i = 0; i < found.Count; i++)
        {
            if (i == 0 || found[i].Item != found[i - 1].Item)
            {
                result.Add(found[i]);
            }
        }

        result.Sort(static (a, b) => a.Score != b.Score ? b.Score.CompareTo(a.Score) : a.Item.CompareTo(b.Item));
        if (result.Count > k)
        {
            result.RemoveRange(k, result.Count - k);
        }

        return result;
    }

    /// <summary>Writes the model as an artifact (see <see cref="ArtifactWriter"/>).</summary>
    public void Save(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var w = new ArtifactWriter(stream, ArtifactKind, ArtifactVersion, ItemCount);
        var o = _options;
        w.Write(o.SaturationWeight);
        w.Write(o.MaxNodesPerUser);
        w.Write(o.MinSupport);
        w.Write(o.Shrinkage);
        w.Write(o.MaxNeighbours);
        w.Write(o.BestBrandsPerCategory);
        w.Write(o.NodesForCandidates);
        w.Write(o.ItemsPerNode);
        w.Write(o.OutsideLikedCategoryFactor);
        w.WriteArray<int>(_itemCategory);
        w.WriteArray<int>(_itemBrand);
        _categories.Write(w);
        _brands.Write(w);
        w.WriteArray<int>(_brandItemOffsets);
        w.WriteArray<int>(_brandItems);
        w.WriteArray<float>(_brandPopularity);
        w.WriteArray<int>(_bestBrandOffsets);
        w.WriteArray<int>(_bestBrands);
    }

    /// <summary>Reads a model written by <see cref="Save"/>.</summary>
    /// <exception cref="InvalidDataException">Not a discovery artifact of this version, truncated, or inconsistent.</exception>
    public static DiscoveryModel Load(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var r = new ArtifactReader(stream, ArtifactKind, ArtifactVersion);
        var options = new DiscoveryOptions
        {
            SaturationWeight = r.ReadDouble(),
            MaxNodesPerUser = r.ReadInt32(),
            MinSupport = r.ReadInt32(),
            Shrinkage = r.ReadDouble(),
            MaxNeighbours = r.ReadInt32(),
            BestBrandsPerCategory = r.ReadInt32(),
            NodesForCandidates = r.ReadInt32(),
            ItemsPerNode = r.ReadInt32(),
            OutsideLikedCategoryFactor = r.ReadDouble(),
        };
        try
        {
            options.Validate();
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException("The discovery artifact holds invalid options.", e);
        }

        var itemCategory = r.ReadArray<int>();
        var itemBrand = r.ReadArray<int>();
        var categories = Graph.Read(r);
        var brands = Graph.Read(r);
        var brandOffsets = r.ReadArray<int>();
        var brandItems = r.ReadArray<int>();
        var brandPopularity = r.ReadArray<float>();
        var bestOffsets = r.ReadArray<int>();
        var best = r.ReadArray<int>();
        Check(itemCategory.Length == r.ItemCount && itemBrand.Length == r.ItemCount, "item arrays do not match the item count");
        Check(IsCsr(brandOffsets, brandItems.Length) && brandOffsets.Length == brands.NodeCount + 1, "brand items are not CSR");
        Check(brandPopularity.Length == brands.NodeCount, "brand popularity does not match the brands");
        Check(IsCsr(bestOffsets, best.Length) && bestOffsets.Length == categories.NodeCount + 1, "best brands are not CSR");
        foreach (var c in itemCategory)
        {
            Check(c >= -1 && c < categories.NodeCount, "an item category is out of range");
        }

        foreach (var b in itemBrand)
        {
            Check(b >= -1 && b < brands.NodeCount, "an item brand is out of range");
        }

        foreach (var i in brandItems)
        {
            Check((uint)i < (uint)r.ItemCount, "a brand item is out of range");
        }

        foreach (var b in best)
        {
            Check((uint)b < (uint)brands.NodeCount, "a best brand is out of range");
        }

        return new DiscoveryModel(options, itemCategory, itemBrand, categories, brands, brandOffsets, brandItems, brandPopularity, bestOffsets, best);
    }

    private IReadOnlyList<DiscoveredNode> Discover(in UserHistory history, int[] itemNode, Graph graph, int k)
    {
        var items = history.Items.Span;
        if (k == 0 || items.IsEmpty || graph.NodeCount == 0)
        {
            return [];
        }

        var weights = history.Weights.Span;
        var n = graph.NodeCount;
        var affinity = ArrayPool<float>.Shared.Rent(n);
        var score = ArrayPool<float>.Shared.Rent(n);
        var contribution = ArrayPool<float>.Shared.Rent(n);
        var because = ArrayPool<int>.Shared.Rent(n);
        var engaged = ArrayPool<bool>.Shared.Rent(n);
        var touched = new List<int>();
        var reached = new List<int>();
        try
        {
            affinity.AsSpan(0, n).Clear();
            score.AsSpan(0, n).Clear();
            engaged.AsSpan(0, n).Clear();
            for (var r = 0; r < items.Length; r++)
            {
                var item = items[r];
                var w = weights[r];
                var node = (uint)item < (uint)itemNode.Length ? itemNode[item] : -1;
                if (node < 0 || node >= n)
                {
                    continue;
                }

                if (!engaged[node])
                {
                    engaged[node] = true;
                    touched.Add(node);
                }

                affinity[node] += Math.Max(0f, w);
            }

            var sat = (float)_options.SaturationWeight;
            foreach (var a in touched)
            {
                // Even a zero-weight event says she knows the node; give it a floor so it still reaches neighbours.
                var x = Math.Clamp(affinity[a] / sat, 0.05f, 1f);
                for (var e = graph.Offsets[a]; e < graph.Offsets[a + 1]; e++)
                {
                    var b = graph.Targets[e];
                    if (engaged[b])
                    {
                        continue;
                    }

                    var c = x * graph.Scores[e];
                    if (score[b] == 0)
                    {
                        reached.Add(b);
                        contribution[b] = c;
                        because[b] = a;
                    }
                    else if (c > contribution[b] || (c == contribution[b] && a < because[b]))
                    {
                        contribution[b] = c;
                        because[b] = a;
                    }

                    score[b] += c;
                }
            }

            var result = new DiscoveredNode[reached.Count];
            for (var i = 0; i < result.Length; i++)
            {
                var b = reached[i];
                result[i] = new DiscoveredNode(b, score[b], because[b]);
            }

            Array.Sort(result, static (x, y) => x.Score != y.Score ? y.Score.CompareTo(x.Score) : x.Node.CompareTo(y.Node));
            return result.Length > k ? result[..k] : result;
        }
        finally
        {
            ArrayPool<float>.Shared.Return(affinity);
            ArrayPool<float>.Shared.Return(score);
            ArrayPool<float>.Shared.Return(contribution);
            ArrayPool<int>.Shared.Return(because);
            ArrayPool<bool>.Shared.Return(engaged);
        }
    }

    private bool Sellable(int item, ItemTable items, int[] excludedSorted) =>
        (uint)item < (uint)items.Count && (uint)item < (uint)_itemCategory.Length && items.InStock[item] && float.IsFinite(items.Price[item])
        && Array.BinarySearch(excludedSorted, item) < 0;

    private static (int[] Offsets, int[] Items, float[] Popularity) BrandItems(int[] itemBrand, float[] itemWeight, int brandCount)
    {
        var offsets = new int[brandCount + 1];
        var popularity = new float[brandCount];
        for (var i = 0; i < itemBrand.Length; i++)
        {
            if (itemBrand[i] >= 0)
            {
                offsets[itemBrand[i] + 1]++;
                popularity[itemBrand[i]] += itemWeight[i];
            }
        }

        for (var b = 0; b < brandCount; b++)
        {
            offsets[b + 1] += offsets[b];
        }

        var items = new int[offsets[^1]];
        var cursor = offsets[..^1];
        for (var i = 0; i < itemBrand.Length; i++)
        {
            if (itemBrand[i] >= 0)
            {
                items[cursor[itemBrand[i]]++] = i;
            }
        }

        for (var b = 0; b < brandCount; b++)
        {
            items.AsSpan(offsets[b], offsets[b + 1] - offsets[b])
                .Sort((x, y) => itemWeight[x] != itemWeight[y] ? itemWeight[y].CompareTo(itemWeight[x]) : x.CompareTo(y));
        }

        return (offsets, items, popularity);
    }

    private static (int[] Offsets, int[] Brands) BestBrandsByCategory(Dictionary<long, float> weights, int categoryCount, int perCategory)
    {
        var lists = new List<(int Brand, float Weight)>[categoryCount];
        foreach (var (key, w) in weights)
        {
            var c = (int)(key >> 32);
            (lists[c] ??= []).Add(((int)(uint)key, w));
        }

        var offsets = new int[categoryCount + 1];
        var brands = new List<int>();
        for (var c = 0; c < categoryCount; c++)
        {
            if (lists[c] is { } list)
            {
                list.Sort(static (x, y) => x.Weight != y.Weight ? y.Weight.CompareTo(x.Weight) : x.Brand.CompareTo(y.Brand));
                for (var i = 0; i < Math.Min(perCategory, list.Count); i++)
                {
                    brands.Add(list[i].Brand);
                }
            }

            offsets[c + 1] = brands.Count;
        }

        return (offsets, [.. brands]);
    }

    private static bool IsCsr(int[] offsets, int length)
    {
        if (offsets.Length == 0 || offsets[0] != 0 || offsets[^1] != length)
        {
            return false;
        }

        for (var i = 0; i + 1 < offsets.Length; i++)
        {
            if (offsets[i] > offsets[i + 1])
            {
                return false;
            }
        }

        return true;
    }

    private static void Check(bool condition, string what)
    {
        if (!condition)
        {
            throw new InvalidDataException($"The discovery artifact is inconsistent: {what}.");
        }
    }

    /// <summary>A node-to-node association as CSR, each row best first.</summary>
    private sealed class Graph(int nodeCount, int[] offsets, int[] targets, float[] scores)
    {
        public int NodeCount { get; } = nodeCount;

        public int[] Offsets { get; } = offsets;

        public int[] Targets { get; } = targets;

        public float[] Scores { get; } = scores;

        public IReadOnlyList<DiscoveredNode> Neighbours(int node)
        {
            if ((uint)node >= (uint)NodeCount)
            {
                return [];
            }

            var result = new DiscoveredNode[Offsets[node + 1] - Offsets[node]];
            for (var e = Offsets[node]; e < Offsets[node + 1]; e++)
            {
                result[e - Offsets[node]] = new DiscoveredNode(Targets[e], Scores[e], node);
            }

            return result;
        }

        public void Write(ArtifactWriter w)
        {
            w.Write(NodeCount);
            w.WriteArray<int>(Offsets);
            w.WriteArray<int>(Targets);
            w.WriteArray<float>(Scores);
        }

        public static Graph Read(ArtifactReader r)
        {
            var n = r.ReadInt32();
            var offsets = r.ReadArray<int>();
            var targets = r.ReadArray<int>();
            var scores = r.ReadArray<float>();
            Check(n >= 0 && offsets.Length == n + 1 && IsCsr(offsets, targets.Length) && scores.Length == targets.Length, "a graph is not CSR");
            for (var e = 0; e < targets.Length; e++)
            {
                Check((uint)targets[e] < (uint)n && float.IsFinite(scores[e]) && scores[e] > 0, "a graph edge is out of range or not positive");
            }

            return new Graph(n, offsets, targets, scores);
        }
    }

    /// <summary>Training: weighted node and pair counts over users (dictionaries allowed here).</summary>
    private sealed class PairCounter(int nodeCount)
    {
        private readonly float[] _affinity = new float[nodeCount];
        private readonly bool[] _seen = new bool[nodeCount];
        private readonly List<int> _touched = [];
        private readonly double[] _mass = new double[nodeCount];
        private readonly Dictionary<long, (double Mass, int Users)> _pairs = [];
        private (int Node, float X)[] _user = new (int, float)[16];
        private int _users;

        public void Engage(int node, float weight)
        {
            if (node < 0 || node >= nodeCount)
            {
                return;
            }

            if (!_seen[node])
            {
                _seen[node] = true;
                _touched.Add(node);
            }

            _affinity[node] += weight;
        }

        public void EndUser(float saturation, int maxNodes)
        {
            if (_touched.Count == 0)
            {
                return;
            }

            if (_user.Length < _touched.Count)
            {
                _user = new (int, float)[Math.Max(_touched.Count, _user.Length * 2)];
            }

            var count = _touched.Count;
            for (var i = 0; i < count; i++)
            {
                var node = _touched[i];
                _user[i] = (node, Math.Clamp(_affinity[node] / saturation, 0.05f, 1f));
                _affinity[node] = 0;
                _seen[node] = false;
            }

            _touched.Clear();
            var user = _user.AsSpan(0, count);
            user.Sort(static (a, b) => a.X != b.X ? b.X.CompareTo(a.X) : a.Node.CompareTo(b.Node));
            user = user[..Math.Min(count, maxNodes)];
            _users++;
            for (var i = 0; i < user.Length; i++)
            {
                _mass[user[i].Node] += user[i].X;
                for (var j = i + 1; j < user.Length; j++)
                {
                    var (a, b) = user[i].Node < user[j].Node ? (user[i].Node, user[j].Node) : (user[j].Node, user[i].Node);
                    ref var pair = ref CollectionsMarshal.GetValueRefOrAddDefault(_pairs, ((long)a << 32) | (uint)b, out _);
                    pair.Mass += user[i].X * user[j].X;
                    pair.Users++;
                }
            }
        }

        public Graph ToGraph(DiscoveryOptions options)
        {
            var rows = new List<(int Node, float Score)>[nodeCount];
            foreach (var (key, (mass, users)) in _pairs)
            {
                if (users < options.MinSupport)
                {
                    continue;
                }

                var a = (int)(key >> 32);
                var b = (int)(uint)key;
                var pmi = Math.Log(mass * _users / (_mass[a] * _mass[b]));
                var score = (float)(pmi * users / (users + options.Shrinkage));
                if (!(score > 0) || !float.IsFinite(score))
                {
                    continue;
                }

                (rows[a] ??= []).Add((b, score));
                (rows[b] ??= []).Add((a, score));
            }

            var offsets = new int[nodeCount + 1];
            var targets = new List<int>();
            var scores = new List<float>();
            for (var n = 0; n < nodeCount; n++)
            {
                if (rows[n] is { } row)
                {
                    row.Sort(static (x, y) => x.Score != y.Score ? y.Score.CompareTo(x.Score) : x.Node.CompareTo(y.Node));
                    for (var i = 0; i < Math.Min(row.Count, options.MaxNeighbours); i++)
                    {
                        targets.Add(row[i].Node);
                        scores.Add(row[i].Score);
                    }
                }

                offsets[n + 1] = targets.Count;
            }

            return new Graph(nodeCount, offsets, [.. targets], [.. scores]);
        }
    }
}
