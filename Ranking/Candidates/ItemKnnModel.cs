using Ranking.Data;

namespace Ranking.Candidates;

/// <summary>Settings of <see cref="ItemKnnModel"/>.</summary>
public sealed record ItemKnnOptions
{
    /// <summary>Neighbours kept per item.</summary>
    public int Neighbours { get; init; } = 200;

    /// <summary>Added to the denominator of the cosine, so pairs supported by few users count less (0 = plain cosine).</summary>
    public float Shrinkage { get; init; }

    /// <summary>Use 0/1 entries instead of the summed event weights.</summary>
    public bool Binary { get; init; }

    /// <summary>How many of the user's most recent distinct items score her.</summary>
    public int HistoryItems { get; init; } = 200;

    public int MaxDegreeOfParallelism { get; init; } = -1;
}

/// <summary>
/// Item-based collaborative filtering: the cosine between item columns of the user–item matrix (entries are the
/// summed event-type weights, or 0/1), the best <see cref="ItemKnnOptions.Neighbours"/> kept per item. A user is
/// scored by Σ_h w_h · sim(h, j) over her recent distinct items h. Cost of training: Σ_u deg(u)² multiply-adds.
/// </summary>
public sealed class ItemKnnModel : ICandidateGenerator, IItemSimilarity
{
    private const string Kind = "itemknn";
    private const int FormatVersion = 1;

    private readonly int[] _offsets;
    private readonly int[] _neighbours;
    private readonly float[] _similarities;
    private readonly bool _binary;
    private readonly int _historyItems;

    private ItemKnnModel(int itemCount, int[] offsets, int[] neighbours, float[] similarities, bool binary, int historyItems)
    {
        ItemCount = itemCount;
        _offsets = offsets;
        _neighbours = neighbours;
        _similarities = similarities;
        _binary = binary;
        _historyItems = historyItems;
    }

    public string Name => "itemknn";

    public int ItemCount { get; }

    public static ItemKnnModel Train(InteractionLog log, ItemKnnOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(log);
        options ??= new ItemKnnOptions();
        return Train(UserItemMatrix.From(log, options.Binary), options, cancellationToken);
    }

    /// <exception cref="ArgumentOutOfRangeException">Fewer than one neighbour, negative shrinkage, or no history items.</exception>
    public static ItemKnnModel Train(UserItemMatrix matrix, ItemKnnOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(matrix);
        options ??= new ItemKnnOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Neighbours, 1, nameof(options.Neighbours));
        ArgumentOutOfRangeException.ThrowIfNegative(options.Shrinkage, nameof(options.Shrinkage));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.HistoryItems, 1, nameof(options.HistoryItems));

        var n = matrix.ItemCount;
        var norms = new float[n];
        for (var i = 0; i < n; i++)
        {
            var v = matrix.ItemValuesOf(i);
            norms[i] = MathF.Sqrt(System.Numerics.Tensors.TensorPrimitives.SumOfSquares(v));
        }

        var k = options.Neighbours;
        var rowNeighbours = new int[n][];
        var rowSimilarities = new float[n][];
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = options.MaxDegreeOfParallelism, CancellationToken = cancellationToken };
        Parallel.For(
            0,
            n,
            parallel,
            () => (Dot: new float[n], Touched: new List<int>(), Best: new ScoredItem[k]),
            (i, _, scratch) =>
            {
                var (dot, touched, best) = scratch;
                var users = matrix.UsersOf(i);
                var values = matrix.ItemValuesOf(i);
                for (var p = 0; p < users.Length; p++)
                {
                    var items = matrix.ItemsOf(users[p]);
                    var itemValues = matrix.ValuesOf(users[p]);
                    var a = values[p];
                    for (var q = 0; q < items.Length; q++)
                    {
                        var j = items[q];
                        if (j == i)
                        {
                            continue;
                        }

                        if (dot[j] == 0)
                        {
                            touched.Add(j);
                        }

                        dot[j] += a * itemValues[q];
                    }
                }

                // Cosine over the touched items only; a small top-K over a sparse candidate list.
                var count = 0;
                foreach (var j in touched)
                {
                    var sim = dot[j] / ((norms[i] * norms[j]) + options.Shrinkage);
                    dot[j] = 0;
                    if (sim <= 0 || !float.IsFinite(sim))
                    {
                        continue;
                    }

                    count = Offer(best, count, new ScoredItem(j, sim));
                }

                touched.Clear();
                var kept = best.AsSpan(0, count);
                kept.Sort(static (x, y) => x.Score != y.Score ? y.Score.CompareTo(x.Score) : x.Item.CompareTo(y.Item));
                var ids = new int[count];
                var sims = new float[count];
                for (var t = 0; t < count; t++)
                {
                    ids[t] = kept[t].Item;
                    sims[t] = kept[t].Score;
                }

                rowNeighbours[i] = ids;
                rowSimilarities[i] = sims;
                return scratch;
            },
            static _ => { });

        var offsets = new int[n + 1];
        for (var i = 0; i < n; i++)
        {
            offsets[i + 1] = offsets[i] + rowNeighbours[i].Length;
        }

        var neighbours = new int[offsets[n]];
        var similarities = new float[offsets[n]];
        for (var i = 0; i < n; i++)
        {
            rowNeighbours[i].CopyTo(neighbours, offsets[i]);
            rowSimilarities[i].CopyTo(similarities, offsets[i]);
        }

        return new ItemKnnModel(n, offsets, neighbours, similarities, options.Binary, options.HistoryItems);
    }

    /// <summary>False when none of the user's items has a neighbour (new user, or only new items).</summary>
    public bool Score(in UserHistory user, Span<float> scores)
    {
        if (scores.Length != ItemCount)
        {
            throw new ArgumentException($"Expected {ItemCount} scores, got {scores.Length}.", nameof(scores));
        }

        scores.Fill(float.NegativeInfinity);
        var (items, weights) = user.DistinctItems(_historyItems);
        var any = false;
        for (var h = 0; h < items.Length; h++)
        {
            var item = items[h];
            if ((uint)item >= (uint)ItemCount)
            {
                continue;
            }

            var w = _binary ? 1f : weights[h];
            for (var p = _offsets[item]; p < _offsets[item + 1]; p++)
            {
                var j = _neighbours[p];
                var add = w * _similarities[p];
                scores[j] = float.IsNegativeInfinity(scores[j]) ? add : scores[j] + add;
                any = true;
            }
        }

        return any;
    }

    /// <summary>The item's nearest neighbours by cosine; empty for an unknown item or one without co-occurring items.</summary>
    public IReadOnlyList<ScoredItem> Similar(int item, int k)
    {
        if ((uint)item >= (uint)ItemCount || k <= 0)
        {
            return [];
        }

        var start = _offsets[item];
        var count = Math.Min(k, _offsets[item + 1] - start);
        var result = new ScoredItem[count];
        for (var t = 0; t < count; t++)
        {
            result[t] = new ScoredItem(_neighbours[start + t], _similarities[start + t]);
        }

        return result;
    }

    public void Save(Stream stream)
    {
        using var w = new ArtifactWriter(stream, Kind, FormatVersion, ItemCount);
        w.Write(_binary);
        w.Write(_historyItems);
        w.WriteArray<int>(_offsets);
        w.WriteArray<int>(_neighbours);
        w.WriteArray<float>(_similarities);
    }

    /// <exception cref="InvalidDataException">Not an item-kNN artifact, another version, truncated or inconsistent.</exception>
    public static ItemKnnModel Load(Stream stream)
    {
        using var r = new ArtifactReader(stream, Kind, FormatVersion);
        var binary = r.ReadBoolean();
        var history = r.ReadInt32();
        var offsets = r.ReadArray<int>();
        var neighbours = r.ReadArray<int>();
        var similarities = r.ReadArray<float>();
        if (offsets.Length != r.ItemCount + 1 || neighbours.Length != similarities.Length || offsets[^1] != neighbours.Length)
        {
            throw new InvalidDataException("The item-kNN artifact's arrays are inconsistent.");
        }

        return new ItemKnnModel(r.ItemCount, offsets, neighbours, similarities, binary, history);
    }

    // Keeps the best K of a stream in a min-heap ordered by score then by higher index (weaker first).
    private static int Offer(ScoredItem[] heap, int count, ScoredItem candidate)
    {
        if (count < heap.Length)
        {
            heap[count] = candidate;
            var i = count;
            while (i > 0 && Weaker(heap[i], heap[(i - 1) >> 1]))
            {
                var parent = (i - 1) >> 1;
                (heap[i], heap[parent]) = (heap[parent], heap[i]);
                i = parent;
            }

            return count + 1;
        }

        if (!Weaker(heap[0], candidate))
        {
            return count;
        }

        heap[0] = candidate;
        var at = 0;
        while (true)
        {
            var left = (2 * at) + 1;
            if (left >= count)
            {
                break;
            }

            var weakest = left + 1 < count && Weaker(heap[left + 1], heap[left]) ? left + 1 : left;
            if (!Weaker(heap[weakest], heap[at]))
            {
                break;
            }

            (heap[at], heap[weakest]) = (heap[weakest], heap[at]);
            at = weakest;
        }

        return count;
    }

    private static bool Weaker(in ScoredItem a, in ScoredItem b) => a.Score < b.Score || (a.Score == b.Score && a.Item > b.Item);
}
