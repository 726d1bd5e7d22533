using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Ranking.Candidates;
using Ranking.Domain;
using Ranking.Sequential;

namespace Ranking.Fusion;

/// <summary>Settings of the serving pipeline; a request may override the business ones.</summary>
public sealed record RecommenderOptions
{
    /// <summary>Candidates each source proposes.</summary>
    public int CandidatesPerSource { get; init; } = 50;

    /// <summary>Blend of the value of an item: (1 - w) · price + w · margin. 0 optimises GMV, 1 margin.</summary>
    public double MarginWeight { get; init; } = 0.3;

    /// <summary>The objective is P(order) · value^γ: 1 is the expected value, 0 ranks by P(order) alone.</summary>
    public double ValueExponent { get; init; } = 1.0;

    /// <summary>Share of the slots of a home answer kept for discovery candidates (new categories and brands).</summary>
    public double DiscoveryShare { get; init; } = 0.2;

    /// <summary>At most this many items of one leaf category in an answer (relaxed when the answer would be short).</summary>
    public int MaxPerCategory { get; init; } = 3;

    /// <summary>At most this many items of one brand in an answer (relaxed when the answer would be short).</summary>
    public int MaxPerBrand { get; init; } = 3;

    /// <summary>Recent items of the history searched for the anchor of an explanation.</summary>
    public int AnchorItems { get; init; } = 20;

    /// <summary>Sources are computed in parallel (each into its own buffer).</summary>
    public bool ParallelSources { get; init; } = true;

    /// <summary>Weight of personal relevance against the query's own ranking when a search is re-ranked (0–1).</summary>
    public double SearchPersonalWeight { get; init; } = 0.5;

    /// <summary>Throws when an option is out of range.</summary>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(CandidatesPerSource, 1, nameof(CandidatesPerSource));
        Check(MarginWeight, 0, 1, nameof(MarginWeight));
        Check(ValueExponent, 0, 2, nameof(ValueExponent));
        Check(DiscoveryShare, 0, 0.5, nameof(DiscoveryShare));
        Check(SearchPersonalWeight, 0, 1, nameof(SearchPersonalWeight));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxPerCategory, 1, nameof(MaxPerCategory));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxPerBrand, 1, nameof(MaxPerBrand));
    }

    internal static void Check(double value, double min, double max, string name)
    {
        if (!(value >= min && value <= max))
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be between {min} and {max}.");
        }
    }
}

/// <summary>One request to the pipeline.</summary>
public sealed record RecommendationRequest
{
    /// <summary>Items in the answer.</summary>
    public int Count { get; init; } = 20;

    /// <summary>The request time (Unix ms): recency and seasons are measured from it.</summary>
    public long NowMs { get; init; }

    /// <summary>Overrides <see cref="RecommenderOptions.MarginWeight"/> (an experiment variant sets it).</summary>
    public double? MarginWeight { get; init; }

    /// <summary>Overrides <see cref="RecommenderOptions.DiscoveryShare"/>.</summary>
    public double? DiscoveryShare { get; init; }

    /// <summary>Items never to return.</summary>
    public IReadOnlySet<int>? Exclude { get; init; }

    /// <summary>
    /// A category-interest profile (category path at any level → strength 0–1), for example the LLM's reading of the
    /// user's history; it replaces the lifelong-interest statistics in the fusion feature <c>interest_strength</c>.
    /// </summary>
    public IReadOnlyDictionary<string, float>? InterestProfile { get; init; }

    /// <summary>Cold-start context: a category (leaf or top-level index of <see cref="Data.ItemTable.Categories"/>) whose
    /// popular items answer a user with no history.</summary>
    public int? Category { get; init; }
}

/// <summary>Why an item is recommended: a kind, the signal that carried it, and a sentence from a template.</summary>
/// <param name="Kind">lifelong, complement, analog, similar-content, sequence, collaborative, discovery-brand,
/// discovery-category, popular, search.</param>
public sealed record Explanation(string Kind, CandidateSource? Source, string Text, int AnchorItem = -1, long AnchorMs = 0, int Category = -1, int Brand = -1);

/// <summary>One item of an answer.</summary>
/// <param name="Score">The objective the answer is sorted by (before diversity).</param>
/// <param name="OrderProbability">The fusion model's P(order), or NaN when the answer was not scored by it.</param>
/// <param name="Value">The item's value: (1 - w) · price + w · margin.</param>
public sealed record RecommendedItem(int Item, double Score, double OrderProbability, double Value, IReadOnlyList<CandidateSource> Sources, Explanation Explanation);

/// <summary>Milliseconds spent in each stage of a request.</summary>
public sealed record StageTimings(double Candidates, double Scoring, double Ranking, double Explanations);

/// <summary>An answer of the pipeline.</summary>
/// <param name="Sources">The sources that proposed candidates.</param>
/// <param name="Degraded">One line per optional part that was missing or failed ("transformer: not trained").</param>
/// <param name="Scorer">fusion (the fusion model), rrf (reciprocal-rank fusion, when the fusion model is missing), or
/// similarity (item-to-item surfaces).</param>
public sealed record RecommendationResult(
    IReadOnlyList<RecommendedItem> Items, IReadOnlyList<CandidateSource> Sources, IReadOnlyList<string> Degraded, bool ColdStart, string Scorer,
    StageTimings Timings);

/// <summary>A brand of the discovery carousel with a few of its items.</summary>
public sealed record BrandSuggestion(int Brand, float Score, int BecauseBrand, IReadOnlyList<int> Items, string Reason);

/// <summary>
/// The serving pipeline over one <see cref="ServingModels"/>: candidates from every source, the fusion model's
/// P(order), the business objective (P(order) · value, value blending GMV and margin), filters, diversity caps and
/// discovery slots, and an explanation per item. Thread-safe; one instance per loaded model version.
/// </summary>
public sealed class Recommender
{
    private static readonly CandidateSource[] DenseSources =
        [CandidateSource.Transformer, CandidateSource.Als, CandidateSource.Analogs, CandidateSource.Complements, CandidateSource.Content, CandidateSource.Popularity];

    private readonly ServingModels _models;
    private readonly RecommenderOptions _options;
    private readonly Action<string>? _log;
    private readonly ConcurrentDictionary<string, byte> _logged = new(StringComparer.Ordinal);
    private readonly Lazy<int[][]> _brandItems;
    private readonly Lazy<int[][]> _leaves;

    /// <param name="models">The models to serve.</param>
    /// <param name="options">Pipeline settings; null: defaults.</param>
    /// <param name="log">Receives each fall-back once (per pipeline instance), not once per request.</param>
    /// <param name="transformerOnnx">ONNX Runtime's session of <see cref="ServingModels.Transformer"/>, to compute its user
    /// states with; null: the C# forward pass. The caller owns it.</param>
    public Recommender(ServingModels models, RecommenderOptions? options = null, Action<string>? log = null, Sequential.OnnxSequentialScorer? transformerOnnx = null)
    {
        ArgumentNullException.ThrowIfNull(models);
        _models = models;
        _options = options ?? new RecommenderOptions();
        _options.Validate();
        _log = log;
        _brandItems = new Lazy<int[][]>(BuildBrandItems);
        _leaves = new Lazy<int[][]>(BuildLeaves);
        _transformer = models.Transformer is { } t ? new Sequential.CachedSequentialScorer(t, onnx: transformerOnnx) : null;
    }

    private readonly Sequential.CachedSequentialScorer? _transformer;

    /// <summary>The transformer source with its cached user states (null without a transformer).</summary>
    public Sequential.CachedSequentialScorer? TransformerStates => _transformer;

    /// <summary>The models this pipeline serves.</summary>
    public ServingModels Models => _models;

    /// <summary>The options in force.</summary>
    public RecommenderOptions Options => _options;

    private ServingCatalog Catalog => _models.Catalog;

    /// <summary>The home feed of a user.</summary>
    public RecommendationResult Home(in UserHistory history, RecommendationRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var clock = Stopwatch.StartNew();
        var profile = new UserProfile(Catalog, history, request.NowMs);
        var degraded = new List<string>();
        using var pool = new CandidatePool(Catalog.ItemCount);
        var skip = HomeFilter(profile, request);
        Collect(pool, history, profile, request, skip, degraded, includeSparse: true);
        var candidates = clock.Elapsed.TotalMilliseconds;

        clock.Restart();
        var scored = Score(pool, profile, request, degraded, out var scorer);
        var scoring = clock.Elapsed.TotalMilliseconds;

        clock.Restart();
        var share = profile.IsCold ? 0 : request.DiscoveryShare ?? _options.DiscoveryShare;
        RecommenderOptions.Check(share, 0, 0.5, nameof(request.DiscoveryShare));
        var chosen = Arrange(scored, request.Count, share, item => pool.Rank(CandidateSource.Discovery, item) >= 0);
        var ranking = clock.Elapsed.TotalMilliseconds;

        clock.Restart();
        var anchors = new AnchorFinder(_models, history, _options.AnchorItems);
        var items = chosen.Select(c => new RecommendedItem(
            c.Item, c.Score, c.Probability, c.Value, pool.SourcesOf(c.Item), ExplainHome(pool, anchors, c.Item))).ToList();
        var explaining = clock.Elapsed.TotalMilliseconds;
        return new RecommendationResult(items, [.. pool.Served], degraded, profile.IsCold, scorer, new StageTimings(candidates, scoring, ranking, explaining));
    }

    /// <summary>
    /// Re-ranks retrieved search results for a user: the query's own ranking fused (by reciprocal ranks) with the
    /// user's P(order) over the same items; a cold user gets the query's ranking with the business objective.
    /// </summary>
    /// <param name="retrieved">The search hits, best first.</param>
    public RecommendationResult Rerank(in UserHistory history, IReadOnlyList<ScoredItem> retrieved, string query, RecommendationRequest request)
    {
        ArgumentNullException.ThrowIfNull(retrieved);
        ArgumentNullException.ThrowIfNull(request);
        var clock = Stopwatch.StartNew();
        var profile = new UserProfile(Catalog, history, request.NowMs);
        var degraded = new List<string>();
        using var pool = new CandidatePool(Catalog.ItemCount);
        // Each source ranks the retrieved items among themselves, so the rank features mean what they meant in training.
        var retrievedSet = retrieved.Select(r => r.Item).ToHashSet();
        var searchContext = Sequential.SequentialContext.Search(query, Catalog.SurfaceCode("search"));
        Collect(pool, history, profile, request, item => !retrievedSet.Contains(item), degraded, includeSparse: false, searchContext);
        var candidates = clock.Elapsed.TotalMilliseconds;

        clock.Restart();
        var row = new float[FusionFeatures.Count];
        var rows = new List<Scored>();
        var probabilities = new double[retrieved.Count];
        for (var r = 0; r < retrieved.Count; r++)
        {
            var item = retrieved[r].Item;
            FusionFeatures.Fill(pool, profile, Catalog, _models.Popularity, item, row);
            probabilities[r] = _models.Fusion?.Probability(row) ?? double.NaN;
        }

        var personal = profile.IsCold || _models.Fusion is null ? 0 : _options.SearchPersonalWeight;
        var byProbability = Enumerable.Range(0, retrieved.Count).OrderByDescending(r => probabilities[r]).ToArray();
        var personalRank = new int[retrieved.Count];
        for (var p = 0; p < byProbability.Length; p++)
        {
            personalRank[byProbability[p]] = p;
        }

        var weight = request.MarginWeight ?? _options.MarginWeight;
        for (var r = 0; r < retrieved.Count; r++)
        {
            var item = retrieved[r].Item;
            if (request.Exclude?.Contains(item) == true || !Catalog.Items.InStock[item])
            {
                continue;
            }

            var relevance = ((1 - personal) / (60.0 + r)) + (personal / (60.0 + personalRank[r]));
            rows.Add(new Scored(item, relevance, probabilities[r], Value(item, weight)));
        }

        var scoring = clock.Elapsed.TotalMilliseconds;
        clock.Restart();

        // Arrange takes the rows best first: by the blended relevance, ties in the query's order (a stable sort).
        var ordered = rows.Select((row, at) => (row, at)).OrderByDescending(p => p.row.Score).ThenBy(p => p.at).Select(p => p.row).ToList();
        var chosen = Arrange(ordered, request.Count, 0, _ => false);
        var ranking = clock.Elapsed.TotalMilliseconds;
        var items = chosen.Select(c => new RecommendedItem(
            c.Item, c.Score, c.Probability, c.Value, pool.SourcesOf(c.Item),
            new Explanation("search", null, personal > 0 && personalRank[IndexOf(retrieved, c.Item)] < 10
                ? $"Matches \u201c{query}\u201d and what you like" : $"Matches \u201c{query}\u201d",
                Category: Catalog.Items.CategoryIndex[c.Item], Brand: Catalog.Items.BrandIndex[c.Item]))).ToList();
        return new RecommendationResult(items, [.. pool.Served], degraded, profile.IsCold, personal > 0 ? "fusion" : "query", new StageTimings(candidates, scoring, ranking, 0));
    }

    /// <summary>Analogs of an item: co-viewed items, text neighbours and ALS neighbours, fused by reciprocal ranks, then
    /// weighted by value and the user's affinity when there is a user.</summary>
    public RecommendationResult Analogs(int anchor, in UserHistory history, RecommendationRequest request) =>
        ItemToItem(anchor, history, request, complements: false);

    /// <summary>Complements of an item: items bought after it in other categories, and the top sellers of those
    /// categories.</summary>
    public RecommendationResult Complements(int anchor, in UserHistory history, RecommendationRequest request) =>
        ItemToItem(anchor, history, request, complements: true);

    /// <summary>The discovery brand carousel: brands new to the user next to her interests, each with a few items (in
    /// the categories she likes first). A cold user gets the most popular brands.</summary>
    public IReadOnlyList<BrandSuggestion> Brands(in UserHistory history, int count, int itemsPerBrand, long nowMs)
    {
        var profile = new UserProfile(Catalog, history, nowMs);
        var brands = Catalog.Items.Brands;
        var suggestions = new List<BrandSuggestion>();
        IEnumerable<(int Brand, float Score, int Because)> picked;
        if (_models.Discovery is { } discovery && !profile.IsCold)
        {
            picked = discovery.NewBrands(history, count * 2).Select(d => (d.Node, d.Score, d.BecauseNode));
        }
        else
        {
            if (!profile.IsCold)
            {
                Once("discovery", "discovery: not trained; the carousel shows popular brands");
            }

            picked = PopularBrands().Where(b => !profile.KnowsBrand(b.Brand)).Select(b => (b.Brand, b.Score, -1));
        }

        foreach (var (brand, score, because) in picked)
        {
            if (suggestions.Count >= count)
            {
                break;
            }

            var items = _brandItems.Value[brand]
                .OrderByDescending(i => profile.CategoryAffinity(Catalog.Items.CategoryIndex[i]) > 0 || profile.CategoryAffinity(Catalog.Items.TopCategoryIndex[i]) > 0)
                .Take(itemsPerBrand).ToList();
            if (items.Count == 0)
            {
                continue;
            }

            var reason = because >= 0 && because < brands.Count
                ? $"New to you: {brands[brand]}, popular with shoppers who like {brands[because]}"
                : $"New to you: {brands[brand]}, a popular brand";
            suggestions.Add(new BrandSuggestion(brand, score, because, items, reason));
        }

        return suggestions;
    }

    /// <summary>The user's interests: long-horizon ones from the lifelong model, else her category shares.</summary>
    public IReadOnlyList<UserInterest> Interests(in UserHistory history, long nowMs)
    {
        if (_models.Lifelong is { } lifelong)
        {
            return lifelong.Interests(history, nowMs);
        }

        Once("lifelong", "lifelong: not trained; interests are plain category shares");
        return [];
    }

    private RecommendationResult ItemToItem(int anchor, in UserHistory history, RecommendationRequest request, bool complements)
    {
        ArgumentNullException.ThrowIfNull(request);
        var clock = Stopwatch.StartNew();
        var profile = new UserProfile(Catalog, history, request.NowMs);
        var degraded = new List<string>();
        var table = Catalog.Items;
        var n = _options.CandidatesPerSource;
        var lists = new List<(CandidateSource Source, double Weight, IReadOnlyList<ScoredItem> Items)>();
        if (complements)
        {
            var direct = Try(CandidateSource.Complements, degraded, () => _models.Complements?.Similar(anchor, n), "complements: not trained");
            lists.Add((CandidateSource.Complements, 1.0, direct));
            var categoryTops = new List<ScoredItem>();
            foreach (var leaf in direct.Select(d => table.CategoryIndex[d.Item]).Where(c => c >= 0).Distinct().Take(5))
            {
                categoryTops.AddRange(_models.Popularity.TopInCategory(leaf, 5));
            }

            if (categoryTops.Count == 0)
            {
                // No observed complement: the top sellers of the anchor's other leaves in its top-level category.
                var top = table.TopCategoryIndex[anchor];
                var leaves = top < 0 ? [] : _leaves.Value[top].Where(l => l != table.CategoryIndex[anchor]).Take(8);
                foreach (var leaf in leaves)
                {
                    categoryTops.AddRange(_models.Popularity.TopInCategory(leaf, 3));
                }
            }

            lists.Add((CandidateSource.Popularity, 0.5, [.. categoryTops.OrderByDescending(s => s.Score)]));
        }
        else
        {
            lists.Add((CandidateSource.Analogs, 1.0, Try(CandidateSource.Analogs, degraded, () => _models.Analogs?.Similar(anchor, n), "analogs: not trained")));
            lists.Add((CandidateSource.Content, 1.0, Try(CandidateSource.Content, degraded, () => _models.Content?.Similar(anchor, n), "content: not trained")));
            lists.Add((CandidateSource.Als, 0.7, Try(CandidateSource.Als, degraded, () => _models.Als?.Similar(anchor, n), "als: not trained")));
            lists.Add((CandidateSource.Popularity, 0.3, _models.Popularity.Similar(anchor, n)));
        }

        // The transformer in this scenario: the user's history, then the anchor's context token (a model trained with
        // UseContext learnt what follows an anchor on this surface; even an empty history has the anchor's token).
        if (_transformer is { } transformer && transformer.Model.Options.UseContext)
        {
            var surface = Catalog.SurfaceCode(complements ? "complements" : "analogs");
            var h = history;
            lists.Add((CandidateSource.Transformer, 1.0, Try(
                CandidateSource.Transformer, degraded, () => transformer.TopK(h, Sequential.SequentialContext.Anchor(anchor, surface), n, [anchor]), "transformer: not trained")));
        }

        var candidates = clock.Elapsed.TotalMilliseconds;
        clock.Restart();
        var fused = new Dictionary<int, (double Rrf, List<CandidateSource> Sources)>();
        foreach (var (source, weight, proposed) in lists)
        {
            var rank = 0;
            foreach (var s in proposed)
            {
                var item = s.Item;
                if (item == anchor || !table.InStock[item] || request.Exclude?.Contains(item) == true
                    || (profile.HasOrdered(item) && !Catalog.IsRepeatable(item)))
                {
                    continue;
                }

                if (!fused.TryGetValue(item, out var entry))
                {
                    entry = (0, []);
                }

                entry.Rrf += weight / (60.0 + rank++);
                entry.Sources.Add(source);
                fused[item] = entry;
            }
        }

        var w = request.MarginWeight ?? _options.MarginWeight;
        var rows = fused.Select(p =>
        {
            var affinity = 1 + profile.CategoryAffinity(table.CategoryIndex[p.Key]) + profile.BrandAffinity(table.BrandIndex[p.Key]);
            var value = Value(p.Key, w);
            return new Scored(p.Key, p.Value.Rrf * affinity * Math.Pow(Math.Max(value, 1e-6), _options.ValueExponent * 0.25), double.NaN, value);
        }).OrderByDescending(s => s.Score).ToList();
        var scoring = clock.Elapsed.TotalMilliseconds;
        clock.Restart();
        var chosen = Arrange(rows, request.Count, 0, _ => false);
        var ranking = clock.Elapsed.TotalMilliseconds;
        var title = table.Title[anchor];
        var items = chosen.Select(c =>
        {
            var sources = fused[c.Item].Sources;
            var first = sources[0];
            var explanation = complements
                ? first == CandidateSource.Complements
                    ? new Explanation("complement", first, $"Often bought after {title}", anchor)
                    : first == CandidateSource.Transformer
                    ? new Explanation("sequence", first, $"What shoppers like you picked next to {title}", anchor)
                    : new Explanation("complement", first, $"Top seller in {Leaf(table.CategoryIndex[c.Item])}, which goes with {title}", anchor, Category: table.CategoryIndex[c.Item])
                : first switch
                {
                    CandidateSource.Analogs => new Explanation("analog", first, $"Often viewed together with {title}", anchor),
                    CandidateSource.Content => new Explanation("similar-content", first, $"Similar to {title}", anchor),
                    CandidateSource.Als => new Explanation("collaborative", first, $"Liked by the shoppers who liked {title}", anchor),
                    CandidateSource.Transformer => new Explanation("sequence", first, $"What shoppers like you viewed next to {title}", anchor),
                    _ => new Explanation("popular", first, $"Popular in {Leaf(table.CategoryIndex[c.Item])}", anchor, Category: table.CategoryIndex[c.Item]),
                };
            return new RecommendedItem(c.Item, c.Score, double.NaN, c.Value, sources, explanation);
        }).ToList();
        var served = lists.Where(l => l.Items.Count > 0).Select(l => l.Source).Distinct().ToList();
        return new RecommendationResult(items, served, degraded, profile.IsCold, "similarity", new StageTimings(candidates, scoring, ranking, 0));
    }

    /// <summary>Fills the pool from every source for the home surface (and the personal part of a search).</summary>
    internal void Collect(
        CandidatePool pool, in UserHistory history, UserProfile profile, RecommendationRequest request, Func<int, bool> skip, List<string> degraded,
        bool includeSparse, Sequential.SequentialContext context = default)
    {
        profile.InterestOf = InterestFunction(history, request);
        var k = _options.CandidatesPerSource;
        var ok = new bool[CandidatePool.SourceCount];
        var errors = new string?[CandidatePool.SourceCount];
        var h = history;
        var sources = DenseSources.Where(s => Generator(s) is not null && (s == CandidateSource.Popularity || !profile.IsCold)).ToArray();
        foreach (var s in DenseSources.Where(s => Generator(s) is null))
        {
            var line = $"{Name(s)}: not trained";
            degraded.Add(line);
            Once(Name(s), line);
        }

        var vectors = sources.Select(pool.RentVector).ToArray();
        void Run(int i)
        {
            try
            {
                var scores = vectors[i].AsSpan(0, Catalog.ItemCount);
                ok[(int)sources[i]] = sources[i] == CandidateSource.Transformer && context.Kind != Sequential.SequentialContextKind.None
                    ? _transformer!.Score(h, context, scores)
                    : Generator(sources[i])!.Score(h, scores);
            }
#pragma warning disable CA1031 // an optional source failing degrades the answer; it never breaks it
            catch (Exception ex)
#pragma warning restore CA1031
            {
                errors[(int)sources[i]] = ex.Message;
            }
        }

        if (_options.ParallelSources && sources.Length > 1)
        {
            Parallel.For(0, sources.Length, Run);
        }
        else
        {
            for (var i = 0; i < sources.Length; i++)
            {
                Run(i);
            }
        }

        foreach (var s in sources)
        {
            if (errors[(int)s] is { } error)
            {
                var line = $"{Name(s)}: failed ({error})";
                degraded.Add(line);
                Once(Name(s) + ":failed", line);
                pool.DropVector(s);
            }
            else if (!ok[(int)s])
            {
                pool.DropVector(s);
            }
            else if (s != CandidateSource.Popularity || request.Category is null)
            {
                pool.ProposeTop(s, k, skip);
            }
        }

        if (request.Category is { } category)
        {
            pool.Propose(CandidateSource.Popularity, PopularInCategory(category, k), skip);
        }

        if (!includeSparse || profile.IsCold)
        {
            return;
        }

        var lifelong = _models.Lifelong;
        ProposeSparse(pool, CandidateSource.Lifelong, lifelong is not null, skip, degraded, () =>
        {
            IItemSimilarity complements = _models.Complements is { } c ? c : _models.Popularity;
            return [.. lifelong!.Revive(h, request.NowMs, complements, _models.Popularity, k)
                .Select(r => (r.Item, r.Score, new CandidateReason(r.AnchorItem, r.AnchorMs, r.Interest, -1, false)))];
        });
        var discovery = _models.Discovery;
        ProposeSparse(pool, CandidateSource.Discovery, discovery is not null, skip, degraded, () =>
            [.. discovery!.Candidates(h, _models.Popularity, Catalog.Items, k)
                .Select(d => (d.Item, d.Score, new CandidateReason(-1, 0, d.Node, d.BecauseNode, d.Kind == DiscoveryKind.NewBrand)))]);
    }

    /// <summary>Proposes a sparse source's candidates with their reasons; a missing or failing source is named in
    /// <paramref name="degraded"/> and logged once.</summary>
    private void ProposeSparse(
        CandidatePool pool, CandidateSource source, bool present, Func<int, bool> skip, List<string> degraded,
        Func<IReadOnlyList<(int Item, float Score, CandidateReason Reason)>> find)
    {
        var name = Name(source);
        if (!present)
        {
            degraded.Add($"{name}: not trained");
            Once(name, $"{name}: not trained");
            return;
        }

        try
        {
            var found = find();
            var reasons = new Dictionary<int, CandidateReason>();
            foreach (var (item, _, reason) in found)
            {
                reasons.TryAdd(item, reason);
            }

            pool.Propose(source, [.. found.Select(f => new ScoredItem(f.Item, f.Score))], skip, i => reasons.TryGetValue(i, out var why) ? why : null);
        }
#pragma warning disable CA1031 // an optional source failing degrades the answer; it never breaks it
        catch (Exception ex)
#pragma warning restore CA1031
        {
            degraded.Add($"{name}: failed ({ex.Message})");
            Once(name + ":failed", $"{name}: failed ({ex.Message})");
        }
    }

    /// <summary>The per-item interest strength: the request's profile by category-path prefix, else the lifelong model's
    /// interests by node, else nothing.</summary>
    private Func<int, float> InterestFunction(in UserHistory history, RecommendationRequest request)
    {
        var table = Catalog.Items;
        if (request.InterestProfile is { Count: > 0 } given)
        {
            var byCategory = new Dictionary<int, float>();
            for (var c = 0; c < table.Categories.Count; c++)
            {
                var path = table.Categories[c];
                var best = 0f;
                foreach (var (prefix, strength) in given)
                {
                    var p = CategoryPath.Normalize(prefix);
                    if (path.Equals(p, StringComparison.OrdinalIgnoreCase)
                        || (path.Length > p.Length && path[p.Length] == CategoryPath.Separator && path.StartsWith(p, StringComparison.OrdinalIgnoreCase)))
                    {
                        best = Math.Max(best, Math.Clamp(strength, 0, 1));
                    }
                }

                if (best > 0)
                {
                    byCategory[c] = best;
                }
            }

            return item => byCategory.GetValueOrDefault(table.CategoryIndex[item]);
        }

        if (_models.Lifelong is { } lifelong && !history.IsEmpty)
        {
            var byNode = new Dictionary<int, float>();
            foreach (var interest in lifelong.Interests(history, request.NowMs))
            {
                byNode[interest.Category] = interest.Strength;
            }

            return item => byNode.GetValueOrDefault(lifelong.NodeOf(item));
        }

        return static _ => 0;
    }

    /// <summary>P(order) (or the reciprocal-rank fallback) and the objective of every candidate.</summary>
    internal List<Scored> Score(CandidatePool pool, UserProfile profile, RecommendationRequest request, List<string> degraded, out string scorer)
    {
        var weight = request.MarginWeight ?? _options.MarginWeight;
        RecommenderOptions.Check(weight, 0, 1, nameof(request.MarginWeight));
        var fusion = _models.Fusion;
        if (fusion is null)
        {
            degraded.Add("fusion: not trained; candidates are fused by reciprocal ranks");
            Once("fusion", "fusion: not trained; candidates are fused by reciprocal ranks");
        }

        scorer = fusion is null ? "rrf" : "fusion";
        var row = new float[FusionFeatures.Count];
        var result = new List<Scored>(pool.Count);
        foreach (var item in pool.Items)
        {
            double p;
            if (fusion is not null)
            {
                FusionFeatures.Fill(pool, profile, Catalog, _models.Popularity, item, row);
                p = fusion.Probability(row);
            }
            else
            {
                p = 0;
                for (var s = 0; s < CandidatePool.SourceCount; s++)
                {
                    var rank = pool.Rank((CandidateSource)s, item);
                    p += rank < 0 ? 0 : 1.0 / (60 + rank);
                }
            }

            var value = Value(item, weight);
            var score = p * Math.Pow(Math.Max(value, 1e-6), _options.ValueExponent);
            result.Add(new Scored(item, score, fusion is null ? double.NaN : p, value));
        }

        result.Sort((a, b) => b.Score.CompareTo(a.Score) is var c && c != 0 ? c : a.Item.CompareTo(b.Item));
        return result;
    }

    /// <summary>The answer's order: best objective first under the category and brand caps, with every
    /// ⌈1/share⌉-th slot given to the best discovery candidate left. Caps are relaxed when too few items pass them.</summary>
    internal List<Scored> Arrange(List<Scored> sorted, int count, double discoveryShare, Func<int, bool> isDiscovery)
    {
        var chosen = new List<Scored>(count);
        var used = new HashSet<int>();
        var perCategory = new Dictionary<int, int>();
        var perBrand = new Dictionary<int, int>();
        var table = Catalog.Items;
        var slots = discoveryShare > 0 ? (int)Math.Round(count * discoveryShare) : 0;
        var step = slots > 0 ? Math.Max(2, (int)Math.Round(1 / discoveryShare)) : int.MaxValue;
        var discovery = sorted.Where(s => isDiscovery(s.Item)).ToList();
        for (var relaxed = 0; relaxed < 2 && chosen.Count < count; relaxed++)
        {
            var d = 0;
            var m = 0;
            while (chosen.Count < count)
            {
                var wantDiscovery = slots > 0 && (chosen.Count + 1) % step == 0;
                var picked = wantDiscovery ? Next(discovery, ref d, relaxed == 1) : null;
                if (picked is { } pd)
                {
                    slots--;
                }
                else
                {
                    picked = Next(sorted, ref m, relaxed == 1);
                }

                if (picked is not { } p)
                {
                    break;
                }

                chosen.Add(p);
            }
        }

        return chosen;

        Scored? Next(List<Scored> list, ref int at, bool relaxed)
        {
            for (; at < list.Count; at++)
            {
                var s = list[at];
                if (used.Contains(s.Item))
                {
                    continue;
                }

                var c = table.CategoryIndex[s.Item];
                var b = table.BrandIndex[s.Item];
                if (!relaxed && (perCategory.GetValueOrDefault(c) >= _options.MaxPerCategory || (b >= 0 && perBrand.GetValueOrDefault(b) >= _options.MaxPerBrand)))
                {
                    continue;
                }

                used.Add(s.Item);
                perCategory[c] = perCategory.GetValueOrDefault(c) + 1;
                if (b >= 0)
                {
                    perBrand[b] = perBrand.GetValueOrDefault(b) + 1;
                }

                at++;
                return s;
            }

            return null;
        }
    }

    /// <summary>The value of an item: (1 - w) · price + w · margin, never below 0.</summary>
    public double Value(int item, double marginWeight) => Catalog.ValueOf(item, marginWeight);

    private Func<int, bool> HomeFilter(UserProfile profile, RecommendationRequest request)
    {
        var table = Catalog.Items;
        var exclude = request.Exclude;
        return item => !table.IsKnown(item) || !table.InStock[item] || exclude?.Contains(item) == true
            || (profile.HasOrdered(item) && !Catalog.IsRepeatable(item));
    }

    private Explanation ExplainHome(CandidatePool pool, AnchorFinder anchors, int item)
    {
        var table = Catalog.Items;
        var leaf = table.CategoryIndex[item];
        var brand = table.BrandIndex[item];
        var sources = pool.SourcesOf(item);
        var reason = pool.Reason(item);
        foreach (var source in sources)
        {
            switch (source)
            {
                case CandidateSource.Lifelong when reason is { AnchorItem: >= 0 } r:
                    return new Explanation(
                        "lifelong", source, $"Because you bought {table.Title[r.AnchorItem]} in {Month(r.AnchorMs)}", r.AnchorItem, r.AnchorMs, leaf, brand);
                case CandidateSource.Discovery when reason is { NewBrand: true }:
                    return new Explanation("discovery-brand", source, $"A new brand in {Leaf(leaf)}, a category you like", Category: leaf, Brand: brand);
                case CandidateSource.Discovery when reason is { } r:
                    return new Explanation(
                        "discovery-category", source,
                        r.BecauseNode >= 0 ? $"New for you: {Leaf(leaf)}, popular with shoppers who like {Leaf(r.BecauseNode)}" : $"New for you: {Leaf(leaf)}",
                        Category: leaf, Brand: brand);
                case CandidateSource.Complements when anchors.Find(_models.Complements, item, orders: true) is { } a:
                    return new Explanation("complement", source, $"Goes with {table.Title[a.Item]} you bought", a.Item, a.Ms, leaf, brand);
                case CandidateSource.Analogs when anchors.Find(_models.Analogs, item, orders: false) is { } a:
                    return new Explanation("analog", source, $"Often viewed with {table.Title[a.Item]}", a.Item, a.Ms, leaf, brand);
                case CandidateSource.Content when anchors.Find(_models.Content, item, orders: false) is { } a:
                    return new Explanation("similar-content", source, $"Similar to {table.Title[a.Item]}", a.Item, a.Ms, leaf, brand);
                case CandidateSource.Transformer:
                    return new Explanation("sequence", source, "Picked for what you have been browsing lately", Category: leaf, Brand: brand);
                case CandidateSource.Als:
                    return new Explanation("collaborative", source, "Shoppers with tastes like yours bought it", Category: leaf, Brand: brand);
                default:
                    continue;
            }
        }

        return new Explanation(
            "popular", sources.Count > 0 ? sources[0] : CandidateSource.Popularity,
            $"Popular now in {Leaf(leaf)}", Category: leaf, Brand: brand);
    }

    private IReadOnlyList<ScoredItem> PopularInCategory(int category, int k)
    {
        var leaves = (uint)category < (uint)_leaves.Value.Length ? _leaves.Value[category] : [];
        return [.. leaves.SelectMany(l => _models.Popularity.TopInCategory(l, k)).OrderByDescending(s => s.Score).Take(k)];
    }

    /// <summary>For each category (leaf or top-level index), the distinct leaves of its items, in item order: built once
    /// per model version instead of scanning the catalogue on every cold-start or complement-fallback request.</summary>
    private int[][] BuildLeaves()
    {
        var table = Catalog.Items;
        var lists = new List<int>[table.Categories.Count];
        for (var i = 0; i < table.Count; i++)
        {
            var leaf = table.CategoryIndex[i];
            if (leaf < 0)
            {
                continue;
            }

            Add(leaf, leaf);
            if (table.TopCategoryIndex[i] is var top and >= 0 && top != leaf)
            {
                Add(top, leaf);
            }
        }

        return [.. lists.Select(l => l is null ? [] : l.ToArray())];

        void Add(int category, int leaf)
        {
            var list = lists[category] ??= [];
            if (!list.Contains(leaf))
            {
                list.Add(leaf);
            }
        }
    }

    private IEnumerable<(int Brand, float Score)> PopularBrands()
    {
        var sums = new Dictionary<int, float>();
        var table = Catalog.Items;
        var scores = _models.Popularity.Scores;
        for (var i = 0; i < table.Count; i++)
        {
            if (table.BrandIndex[i] >= 0)
            {
                sums[table.BrandIndex[i]] = sums.GetValueOrDefault(table.BrandIndex[i]) + scores[i];
            }
        }

        return sums.OrderByDescending(p => p.Value).Select(p => (p.Key, p.Value));
    }

    private int[][] BuildBrandItems()
    {
        var table = Catalog.Items;
        var scores = _models.Popularity.Scores.ToArray();
        var lists = new List<int>[table.Brands.Count];
        for (var i = 0; i < table.Count; i++)
        {
            var b = table.BrandIndex[i];
            if (b >= 0 && table.InStock[i] && !float.IsNaN(table.Price[i]))
            {
                (lists[b] ??= []).Add(i);
            }
        }

        return [.. lists.Select(l => l is null ? [] : l.OrderByDescending(i => scores[i]).ToArray())];
    }

    private ICandidateGenerator? Generator(CandidateSource source) => source switch
    {
        CandidateSource.Transformer => _transformer,
        CandidateSource.Als => _models.Als,
        CandidateSource.Analogs => _models.Analogs,
        CandidateSource.Complements => _models.Complements,
        CandidateSource.Content => _models.Content,
        CandidateSource.Popularity => _models.Popularity,
        _ => null,
    };

    private IReadOnlyList<ScoredItem> Try(CandidateSource source, List<string> degraded, Func<IReadOnlyList<ScoredItem>?> get, string missing)
    {
        try
        {
            if (get() is { } list)
            {
                return list;
            }

            degraded.Add(missing);
            Once(Name(source), missing);
        }
#pragma warning disable CA1031 // an optional source failing degrades the answer
        catch (Exception ex)
#pragma warning restore CA1031
        {
            var line = $"{Name(source)}: failed ({ex.Message})";
            degraded.Add(line);
            Once(Name(source) + ":failed", line);
        }

        return [];
    }

    private void Once(string key, string line)
    {
        if (_logged.TryAdd(key, 0))
        {
            _log?.Invoke(line);
        }
    }

    private string Leaf(int category)
    {
        if (category < 0 || category >= Catalog.Items.Categories.Count)
        {
            return "this category";
        }

        var path = Catalog.Items.Categories[category];
        var slash = path.LastIndexOf('/');
        return slash < 0 ? path : path[(slash + 1)..];
    }

    private static string Month(long ms) =>
        DateTimeOffset.FromUnixTimeMilliseconds(ms).ToString("MMMM yyyy", CultureInfo.InvariantCulture);

    private static string Name(CandidateSource s) => s.ToString().ToLowerInvariant();

    private static int IndexOf(IReadOnlyList<ScoredItem> list, int item)
    {
        for (var i = 0; i < list.Count; i++)
        {
            if (list[i].Item == item)
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>A scored candidate: its objective, P(order) and value.</summary>
    internal readonly record struct Scored(int Item, double Score, double Probability, double Value);

    /// <summary>Finds which recent item of the history an item-to-item source links a candidate to.</summary>
    private sealed class AnchorFinder(ServingModels models, UserHistory history, int maxItems)
    {
        private readonly Dictionary<IItemSimilarity, Dictionary<int, (int Item, long Ms)>> _cache = [];

        public (int Item, long Ms)? Find(IItemSimilarity? source, int item, bool orders)
        {
            if (source is null)
            {
                return null;
            }

            if (!_cache.TryGetValue(source, out var map))
            {
                map = [];
                var items = history.Items.Span;
                var types = history.Types.Span;
                var times = history.TimestampsMs.Span;
                var seen = new HashSet<int>();
                for (var r = items.Length - 1; r >= 0 && seen.Count < maxItems; r--)
                {
                    var anchor = items[r];
                    if (anchor < 0 || (orders && (types.IsEmpty || types[r] != models.Catalog.OrderCode)) || !seen.Add(anchor))
                    {
                        continue;
                    }

                    foreach (var s in source.Similar(anchor, 100))
                    {
                        map.TryAdd(s.Item, (anchor, times[r]));
                    }
                }

                _cache[source] = map;
            }

            return map.TryGetValue(item, out var a) ? a : null;
        }
    }
}
