using System.Diagnostics;
using System.Globalization;
using System.Text;
using Ranking.Candidates;
using Ranking.Data;
using Ranking.Demo;
using Ranking.Domain;
using Ranking.Search;

namespace Assistant.Benchmarks;

/// <summary>
/// Catalog search quality on the demo marketplace (docs/benchmarks/search-recall.md):
/// <c>dotnet run -c Release --project benchmarks/Assistant.Benchmarks -- search-recall [queries=1000] [scale=1]</c>.
/// </summary>
/// <remarks>
/// Ground truth: the demo simulator draws a search's query from a leaf category and shows its results from that leaf,
/// so the first view on the search surface that follows a search in the same session, carrying the same query, is an
/// item of the leaf the user meant. A query text maps to the leaf it was followed by most often (a noun such as
/// "jacket" can belong to more than one leaf). Up to N distinct query texts are sampled (seed 42); for each mode the run
/// measures hit@10 (at least one of the top 10 in the leaf) and the mean share of the top 10 in the leaf, and the
/// single-thread query rate (vector and hybrid include encoding the query with MiniLM).
/// </remarks>
internal static class SearchRecallBenchmark
{
    private const int K = 10;
    private const int Seed = 42;
    private static readonly SearchMode[] Modes = [SearchMode.Keyword, SearchMode.Vector, SearchMode.Hybrid];
    private static readonly string[] KindNames = ["noun or leaf name (\"snowboard\")", "brand + noun", "colour + noun"];

    public static async Task<int> RunAsync(string[] args)
    {
        var sampleSize = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 1000;
        var scale = args.Length > 1 ? double.Parse(args[1], CultureInfo.InvariantCulture) : 1.0;
        var date = DateTime.UtcNow.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"search-recall: queries {sampleSize}, scale {scale}, k {K}, seed {Seed}, cores {Environment.ProcessorCount}, {date}"));

        var clock = Stopwatch.StartNew();
        var demo = new DemoMarketplace(new DemoMarketplaceOptions { Scale = scale });
        var truth = ReadGroundTruth(demo, out var log, out var searchEvents, out var followed);
        var generateSeconds = clock.Elapsed.TotalSeconds;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"demo: {log.Items.Count:N0} items, {log.UserCount:N0} users, {searchEvents:N0} searches, {followed:N0} followed by a search-page view, {truth.Count:N0} distinct queries ({generateSeconds:F1} s)"));

        var categoryIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var c = 0; c < log.Items.Categories.Count; c++)
        {
            categoryIndex[log.Items.Categories[c]] = c;
        }

        // Distinct query texts in a fixed order, then a seeded shuffle.
        var texts = truth.Keys.ToArray();
        Array.Sort(texts, StringComparer.Ordinal);
        new Random(Seed).Shuffle(texts);
        var queries = texts[..Math.Min(sampleSize, texts.Length)];
        var leaves = new int[queries.Length];
        var kinds = new QueryKind[queries.Length];
        var ambiguous = 0;
        long majorityEvents = 0, sampledEvents = 0;
        for (var q = 0; q < queries.Length; q++)
        {
            var (leaf, count, total, distinct) = Majority(truth[queries[q]]);
            leaves[q] = categoryIndex[leaf];
            kinds[q] = KindOf(queries[q], demo.Tree[leaf]);
            ambiguous += distinct > 1 ? 1 : 0;
            majorityEvents += count;
            sampledEvents += total;
        }

        clock.Restart();
        var keywords = Bm25Index.Build(log.Items);
        var bm25Seconds = clock.Elapsed.TotalSeconds;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"BM25 build: {bm25Seconds:F3} s, {keywords.DocumentCount:N0} documents, {keywords.TermCount:N0} terms, {keywords.PostingCount:N0} postings"));

        using var encoder = new MiniLmTextEncoder();
        var warmUp = new string[64];
        Array.Fill(warmUp, "warm-up text for the encoder");
        encoder.Encode(warmUp, new float[warmUp.Length * encoder.Dimension]);
        clock.Restart();
        using var content = ContentModel.Build(log.Items, encoder, new ContentOptions { Index = new VectorIndexOptions { Kind = VectorIndexKind.Exact } });
        var contentSeconds = clock.Elapsed.TotalSeconds;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"content model (MiniLM encode + exact index): {contentSeconds:F1} s, {content.VectorCount / contentSeconds:F0} items/s"));

        var search = new HybridSearch(keywords, content, encoder);
        var results = new List<ModeResult>();
        foreach (var mode in Modes)
        {
            results.Add(Measure(search, mode, queries, leaves, log.Items));
            var r = results[^1];
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {mode}: hit@10 {r.HitRate:F3}, share@10 {r.MeanShare:F3}, {r.QueriesPerSecond:F0} queries/s, vectors used {r.VectorsUsed}/{queries.Length}"));
        }

        var report = Report(new ReportInput(
            sampleSize, scale, date, log, searchEvents, followed, truth.Count, queries.Length, ambiguous,
            (double)majorityEvents / sampledEvents, generateSeconds, bm25Seconds, keywords, contentSeconds, content.VectorCount, results, kinds));
        Console.WriteLine();
        Console.WriteLine(report);

        var path = Path.Combine(FindRepositoryRoot(), "docs", "benchmarks", "search-recall.md");
        await File.WriteAllTextAsync(path, report).ConfigureAwait(false);
        Console.WriteLine($"written to {path}");
        return 0;
    }

    /// <summary>Per query text, how often each leaf category followed it; also builds the interaction log.</summary>
    private static Dictionary<string, Dictionary<string, int>> ReadGroundTruth(DemoMarketplace demo, out InteractionLog log, out long searchEvents, out long followed)
    {
        var builder = new InteractionLogBuilder(EventTypeRegistry.Default);
        var categoryOf = new Dictionary<string, string>(StringComparer.Ordinal);
        var truth = new Dictionary<string, Dictionary<string, int>>(StringComparer.Ordinal);
        string? pendingQuery = null, pendingUser = null, pendingSession = null;
        searchEvents = 0;
        followed = 0;
        foreach (var chunk in demo.ReadChunks())
        {
            foreach (var row in chunk.Items)
            {
                builder.AddItem(row.Value);
                categoryOf[row.Value.Id] = row.Value.Category;
            }

            foreach (var row in chunk.Events)
            {
                var e = row.Value;
                builder.Add(e);
                if (e.Type == EventTypeRegistry.Search && !string.IsNullOrWhiteSpace(e.Query))
                {
                    searchEvents++;
                    (pendingQuery, pendingUser, pendingSession) = (e.Query, e.UserId, e.SessionId);
                }
                else if (pendingQuery is not null && e.Type == EventTypeRegistry.View && e.Surface == "search" && e.Query == pendingQuery
                    && e.UserId == pendingUser && e.SessionId == pendingSession && e.ItemId is { } itemId && categoryOf.TryGetValue(itemId, out var leaf))
                {
                    followed++;
                    if (!truth.TryGetValue(pendingQuery, out var byLeaf))
                    {
                        byLeaf = new Dictionary<string, int>(StringComparer.Ordinal);
                        truth[pendingQuery] = byLeaf;
                    }

                    byLeaf[leaf] = byLeaf.GetValueOrDefault(leaf) + 1;
                    pendingQuery = null;
                }
            }
        }

        log = builder.Build();
        return truth;
    }

    private static (string Leaf, int Count, int Total, int Distinct) Majority(Dictionary<string, int> byLeaf)
    {
        string? best = null;
        var bestCount = 0;
        var total = 0;
        foreach (var (leaf, count) in byLeaf)
        {
            total += count;
            if (count > bestCount || (count == bestCount && string.CompareOrdinal(leaf, best) < 0))
            {
                (best, bestCount) = (leaf, count);
            }
        }

        return (best!, bestCount, total, byLeaf.Count);
    }

    /// <summary>Which of the simulator's query templates produced the text.</summary>
    private static QueryKind KindOf(string query, CategoryLeaf leaf)
    {
        if (query == leaf.Noun.ToLowerInvariant() || query == leaf.Name.ToLowerInvariant())
        {
            return QueryKind.Generic;
        }

        foreach (var brand in DemoBrands.All)
        {
            if (query.StartsWith(brand.Name.ToLowerInvariant() + " ", StringComparison.Ordinal))
            {
                return QueryKind.Brand;
            }
        }

        return QueryKind.Colour;
    }

    private static ModeResult Measure(HybridSearch search, SearchMode mode, string[] queries, int[] leaves, ItemTable items)
    {
        var hits = 0;
        var share = 0.0;
        var vectorsUsed = 0;
        var inLeafPerQuery = new int[queries.Length];
        var clock = Stopwatch.StartNew();
        var results = new SearchResult[queries.Length];
        for (var q = 0; q < queries.Length; q++)
        {
            results[q] = search.Search(queries[q], K, mode);
        }

        var seconds = clock.Elapsed.TotalSeconds;
        for (var q = 0; q < queries.Length; q++)
        {
            var inLeaf = 0;
            foreach (var hit in results[q].Hits)
            {
                inLeaf += items.CategoryIndex[hit.Item] == leaves[q] ? 1 : 0;
            }

            inLeafPerQuery[q] = inLeaf;
            hits += inLeaf > 0 ? 1 : 0;
            share += inLeaf / (double)K;
            vectorsUsed += results[q].UsedVectors ? 1 : 0;
        }

        return new ModeResult(mode, (double)hits / queries.Length, share / queries.Length, queries.Length / seconds, vectorsUsed, inLeafPerQuery);
    }

    private static string Report(ReportInput r)
    {
        var s = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        s.AppendLine("# Catalog search: recall of the intended category");
        s.AppendLine();
        s.AppendLine("Command (Release build):");
        s.AppendLine();
        s.AppendLine("```bash");
        s.AppendLine(inv, $"flock /tmp/assistant-build.lock dotnet run -c Release --project benchmarks/Assistant.Benchmarks -- search-recall {r.SampleSize} {r.Scale}");
        s.AppendLine("```");
        s.AppendLine();
        s.AppendLine(inv, $"Machine: {Environment.ProcessorCount} cores, no GPU, shared with other builds; .NET {Environment.Version}. Date {r.Date}. One run; read timings as rough.");
        s.AppendLine();
        s.AppendLine(inv, $"Data: `new DemoMarketplace(new DemoMarketplaceOptions {{ Scale = {r.Scale} }})` (seed 42): {r.Log.Items.Count:N0} items, "
            + $"{r.Log.UserCount:N0} users, {r.SearchEvents:N0} search events, {r.Followed:N0} of them followed by a search-page view with the same "
            + $"query in the same session, {r.DistinctQueries:N0} distinct query texts; {r.Sampled:N0} sampled (seed {Seed}).");
        s.AppendLine();
        s.AppendLine("Ground truth: the demo simulator (`Ranking/Demo/UserSimulator.cs`) draws a search's query from a leaf category "
            + "(the leaf noun, the leaf name, brand + noun, colour + noun) and shows results from that leaf, so the first "
            + "search-page view after the search (same user, session and query) is an item of the intended leaf. A query text "
            + "takes the leaf that followed it most often.");
        s.AppendLine(inv, $"{r.Ambiguous:N0} of the sampled texts were followed by more than one leaf; the majority leaf covers "
            + $"{r.MajorityShare:P1} of the sampled texts' search events.");
        s.AppendLine();
        s.AppendLine("Metrics over the sampled distinct queries, top 10: **hit@10** = share of queries with at least one hit in the "
            + "intended leaf; **share@10** = mean share of the 10 slots holding an item of that leaf (an empty slot counts as a miss). "
            + "Query rates are single-threaded; vector and hybrid include encoding the query with MiniLM (batch of one).");
        s.AppendLine();
        s.AppendLine("| mode | hit@10 | share@10 | queries/s | queries that used vectors |");
        s.AppendLine("|---|---|---|---|---|");
        foreach (var m in r.Results)
        {
            s.AppendLine(inv, $"| {m.Mode} | {m.HitRate:F3} | {m.MeanShare:F3} | {m.QueriesPerSecond:N0} | {m.VectorsUsed:N0} / {r.Sampled:N0} |");
        }

        s.AppendLine();
        s.AppendLine("By query template (hit@10 / share@10):");
        s.AppendLine();
        s.AppendLine("| template | queries | Keyword | Vector | Hybrid |");
        s.AppendLine("|---|---|---|---|---|");
        foreach (var kind in Enum.GetValues<QueryKind>())
        {
            var count = 0;
            foreach (var k in r.Kinds)
            {
                count += k == kind ? 1 : 0;
            }

            s.Append(inv, $"| {KindNames[(int)kind]} | {count:N0} |");
            foreach (var m in r.Results)
            {
                var (hit, share) = Subset(m, r.Kinds, kind);
                s.Append(inv, $" {hit:F3} / {share:F3} |");
            }

            s.AppendLine();
        }

        s.AppendLine();
        s.AppendLine("Set-up and timings:");
        s.AppendLine();
        s.AppendLine(inv, $"- Demo generation and ground truth: {r.GenerateSeconds:F1} s.");
        s.AppendLine(inv, $"- BM25 index build (`Bm25Index.Build`, default options: k1 1.2, b 0.75, boosts title 2, category 1.5, brand 2, "
            + $"description 1): {r.Bm25Seconds:F3} s for {r.Keywords.DocumentCount:N0} items, {r.Keywords.TermCount:N0} terms, {r.Keywords.PostingCount:N0} postings.");
        s.AppendLine(inv, $"- Content model (`ContentModel.Build`, MiniLM all-MiniLM-L6-v2 on ONNX Runtime CPU, exact index): {r.ContentSeconds:F1} s "
            + $"({r.Vectors / r.ContentSeconds:N0} items/s).");
        s.AppendLine("- Hybrid: reciprocal-rank fusion, k0 60, weights 1 and 1, top 100 of each retriever; the vector part is an exact dot "
            + "product over every item vector (`ContentModel` has no public query-by-vector search).");
        return s.ToString();
    }

    private static (double Hit, double Share) Subset(ModeResult m, QueryKind[] kinds, QueryKind kind)
    {
        var n = 0;
        var hits = 0;
        var share = 0.0;
        for (var q = 0; q < kinds.Length; q++)
        {
            if (kinds[q] == kind)
            {
                n++;
                hits += m.InLeaf[q] > 0 ? 1 : 0;
                share += m.InLeaf[q] / (double)K;
            }
        }

        return n == 0 ? (double.NaN, double.NaN) : ((double)hits / n, share / n);
    }

    private static string FindRepositoryRoot()
    {
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Assistant.sln")))
                {
                    return dir.FullName;
                }
            }
        }

        throw new DirectoryNotFoundException("Assistant.sln not found above the working or base directory.");
    }

    private enum QueryKind
    {
        Generic,
        Brand,
        Colour,
    }

    private sealed record ModeResult(SearchMode Mode, double HitRate, double MeanShare, double QueriesPerSecond, int VectorsUsed, int[] InLeaf);

    private sealed record ReportInput(
        int SampleSize, double Scale, string Date, InteractionLog Log, long SearchEvents, long Followed, int DistinctQueries, int Sampled,
        int Ambiguous, double MajorityShare, double GenerateSeconds, double Bm25Seconds, Bm25Index Keywords, double ContentSeconds,
        int Vectors, List<ModeResult> Results, QueryKind[] Kinds);
}
