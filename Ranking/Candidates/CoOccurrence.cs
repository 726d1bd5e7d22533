using System.Buffers;
using Ranking.Data;

namespace Ranking.Candidates;

/// <summary>
/// Item-to-item co-occurrence: analogs (co-viewed in one session) or complements (ordered one after the other,
/// in different categories), scored by PMI, Swing or plain user counts, with the best
/// <see cref="CoOccurrenceOptions.MaxNeighbours"/> neighbours of each item kept as compressed sparse rows, best
/// first. Serves both as an <see cref="IItemSimilarity"/> ("more like this", "buy with it") and as an
/// <see cref="ICandidateGenerator"/> (the sum of the neighbour lists of the user's recent items).
/// </summary>
/// <remarks>
/// <para><b>Scores.</b> Every kept score is positive: negative PMI (pairs seen together less often than chance)
/// is dropped at training, so sums over anchors never cancel out. Complements are directed: A → B is stored in
/// A's list; B's list holds B → A only if users also ordered in that order. With Swing and items that have more
/// than <see cref="CoOccurrenceOptions.MaxUsersPerItem"/> users, each item's list is computed from its own seeded
/// sample of users, so analog scores can differ slightly between (a, b) and (b, a).</para>
/// <para><b>Thread safety.</b> Immutable once trained or loaded; <see cref="Score"/> and <see cref="Similar"/>
/// may run concurrently.</para>
/// </remarks>
public sealed class CoOccurrenceModel : IItemSimilarity, ICandidateGenerator
{
    private const string ArtifactKind = "cooccurrence";
    private const int ArtifactVersion = 1;
    private const int StackAnchors = 64;

    private readonly int[] _offsets;
    private readonly int[] _neighbours;
    private readonly float[] _scores;
    private readonly float _anchorMinWeight;

    private CoOccurrenceModel(
        CoOccurrenceKind kind, CoOccurrenceMeasure measure, int historyLength, double recencyDecay, float anchorMinWeight,
        int[] offsets, int[] neighbours, float[] scores)
    {
        Kind = kind;
        Measure = measure;
        HistoryLength = historyLength;
        RecencyDecay = recencyDecay;
        _anchorMinWeight = anchorMinWeight;
        _offsets = offsets;
        _neighbours = neighbours;
        _scores = scores;
        Name = $"cooc-{KindName(kind)}-{MeasureName(measure)}";
    }

    /// <summary>"cooc-analogs-pmi", "cooc-complements-swing", "cooc-analogs-count"...</summary>
    public string Name { get; }

    public int ItemCount => _offsets.Length - 1;

    public CoOccurrenceKind Kind { get; }

    public CoOccurrenceMeasure Measure { get; }

    /// <summary>How many of a user's most recent distinct items <see cref="Score"/> uses.</summary>
    public int HistoryLength { get; }

    /// <summary>The weight factor per step of recency rank in <see cref="Score"/>.</summary>
    public double RecencyDecay { get; }

    /// <summary>Neighbour entries stored over all items.</summary>
    public int NeighbourCount => _neighbours.Length;

    /// <summary>
    /// Counts the relation over a log and keeps each item's best neighbours; see <see cref="CoOccurrenceOptions"/>
    /// for what is counted. Items (and users) with no counted pair simply get no neighbours: an empty log gives a
    /// model that scores nobody.
    /// </summary>
    /// <exception cref="ArgumentException">An option is out of range, or names an event type the log does not know.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    public static CoOccurrenceModel Train(InteractionLog log, CoOccurrenceOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(log);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var baskets = CoOccurrenceBaskets.Build(log, options, cancellationToken);
        var (offsets, neighbours, scores) = CoOccurrenceCounter.Count(baskets, options, cancellationToken);

        // Complement scoring anchors on the counted events (orders); a user history carries weights, not types, so
        // an event counts as an order when it weighs at least as much as the lightest counted type.
        var anchorMinWeight = options.Kind == CoOccurrenceKind.Complements ? baskets.CountedMinWeight : float.NegativeInfinity;
        return new CoOccurrenceModel(
            options.Kind, options.Measure, options.HistoryLength, options.RecencyDecay, anchorMinWeight, offsets, neighbours, scores);
    }

    /// <summary>
    /// The stored neighbours of <paramref name="item"/>, best first (ties by lower index): at most
    /// <paramref name="k"/>, never the item itself; empty for an item out of range or with no neighbours, and for
    /// k = 0.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="k"/> is negative.</exception>
    public IReadOnlyList<ScoredItem> Similar(int item, int k)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        if ((uint)item >= (uint)ItemCount || k == 0)
        {
            return [];
        }

        var start = _offsets[item];
        var count = Math.Min(k, _offsets[item + 1] - start);
        var result = new ScoredItem[count];
        for (var n = 0; n < count; n++)
        {
            result[n] = new ScoredItem(_neighbours[start + n], _scores[start + n]);
        }

        return result;
    }

    /// <summary>
    /// Scores every item as Σ over anchors h of w_h · decay^rank(h) · score(h → item), where the anchors are the
    /// user's <see cref="HistoryLength"/> most recent distinct items (rank 0 = most recent) and w_h the largest
    /// event weight the user gave h. Complement models anchor on the user's orders (events at least as heavy as
    /// the counted type) when she has any, and on all her items otherwise. Items no anchor reaches get −∞; the
    /// history's own items are not removed (pass them to <c>TopK</c>'s exclude). Events without an item, items
    /// out of range and non-positive or NaN weights are ignored.
    /// </summary>
    /// <returns>False when no anchor has a neighbour (an unknown user, an empty history, only unseen items).</returns>
    /// <exception cref="ArgumentException"><paramref name="scores"/> is not <see cref="ItemCount"/> long.</exception>
    public bool Score(in UserHistory user, Span<float> scores)
    {
        if (scores.Length != ItemCount)
        {
            throw new ArgumentException($"Expected a score span of {ItemCount} items, got {scores.Length}.", nameof(scores));
        }

        var items = user.Items.Span;
        var weights = user.Weights.Span;
        var minWeight = float.NegativeInfinity;
        if (_anchorMinWeight > float.NegativeInfinity && HasEventAtLeast(items, weights, _anchorMinWeight))
        {
            minWeight = _anchorMinWeight;
        }

        int[]? rentedItems = null;
        float[]? rentedWeights = null;
        Span<int> anchors = HistoryLength <= StackAnchors ? stackalloc int[StackAnchors] : (rentedItems = ArrayPool<int>.Shared.Rent(HistoryLength));
        Span<float> anchorWeights = HistoryLength <= StackAnchors ? stackalloc float[StackAnchors] : (rentedWeights = ArrayPool<float>.Shared.Rent(HistoryLength));
        try
        {
            var count = CollectAnchors(items, weights, minWeight, anchors[..HistoryLength], anchorWeights[..HistoryLength]);
            scores.Fill(float.NegativeInfinity);
            var reached = false;
            var decay = 1.0;
            for (var a = 0; a < count; a++, decay *= RecencyDecay)
            {
                var w = anchorWeights[a];
                if (!(w > 0))
                {
                    continue;
                }

                var factor = (float)(w * decay);
                var h = anchors[a];
                for (var e = _offsets[h]; e < _offsets[h + 1]; e++)
                {
                    ref var s = ref scores[_neighbours[e]];
                    s = (float.IsNegativeInfinity(s) ? 0f : s) + (factor * _scores[e]);
                    reached = true;
                }
            }

            return reached;
        }
        finally
        {
            if (rentedItems is not null)
            {
                ArrayPool<int>.Shared.Return(rentedItems);
            }

            if (rentedWeights is not null)
            {
                ArrayPool<float>.Shared.Return(rentedWeights);
            }
        }
    }

    /// <summary>Writes the model as an artifact (see <see cref="ArtifactWriter"/>).</summary>
    public void Save(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var writer = new ArtifactWriter(stream, ArtifactKind, ArtifactVersion, ItemCount);
        writer.Write((int)Kind);
        writer.Write((int)Measure);
        writer.Write(HistoryLength);
        writer.Write(RecencyDecay);
        writer.Write(_anchorMinWeight);
        writer.WriteArray<int>(_offsets);
        writer.WriteArray<int>(_neighbours);
        writer.WriteArray<float>(_scores);
    }

    /// <summary>Reads a model written by <see cref="Save"/>.</summary>
    /// <exception cref="InvalidDataException">
    /// Not a co-occurrence artifact of this version, truncated, or inconsistent (offsets that do not rise, a
    /// neighbour out of range, a non-positive or non-finite score, unknown kind or measure).
    /// </exception>
    public static CoOccurrenceModel Load(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var reader = new ArtifactReader(stream, ArtifactKind, ArtifactVersion);
        var kind = (CoOccurrenceKind)reader.ReadInt32();
        var measure = (CoOccurrenceMeasure)reader.ReadInt32();
        var historyLength = reader.ReadInt32();
        var decay = reader.ReadDouble();
        var anchorMinWeight = reader.ReadSingle();
        var offsets = reader.ReadArray<int>();
        var neighbours = reader.ReadArray<int>();
        var scores = reader.ReadArray<float>();
        Check(Enum.IsDefined(kind) && Enum.IsDefined(measure), "unknown kind or measure");
        Check(historyLength >= 1 && double.IsFinite(decay) && decay > 0 && decay <= 1, "scoring settings out of range");
        Check(!float.IsNaN(anchorMinWeight), "anchor weight is NaN");
        Check(offsets.Length == reader.ItemCount + 1 && offsets[0] == 0 && offsets[^1] == neighbours.Length, "offsets do not match the item count");
        Check(scores.Length == neighbours.Length, "neighbours and scores differ in length");
        for (var i = 0; i < reader.ItemCount; i++)
        {
            Check(offsets[i] <= offsets[i + 1], "offsets do not rise");
        }

        for (var e = 0; e < neighbours.Length; e++)
        {
            Check((uint)neighbours[e] < (uint)reader.ItemCount, "a neighbour is out of range");
            Check(float.IsFinite(scores[e]) && scores[e] > 0, "a score is not positive and finite");
        }

        return new CoOccurrenceModel(kind, measure, historyLength, decay, anchorMinWeight, offsets, neighbours, scores);
    }

    private static void Check(bool condition, string what)
    {
        if (!condition)
        {
            throw new InvalidDataException($"The co-occurrence artifact is inconsistent: {what}.");
        }
    }

    private bool HasEventAtLeast(ReadOnlySpan<int> items, ReadOnlySpan<float> weights, float min)
    {
        for (var r = 0; r < items.Length; r++)
        {
            if ((uint)items[r] < (uint)ItemCount && weights[r] >= min)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The most recent distinct items (newest first) with the largest weight each got anywhere in the history.</summary>
    private int CollectAnchors(ReadOnlySpan<int> items, ReadOnlySpan<float> weights, float minWeight, Span<int> anchors, Span<float> anchorWeights)
    {
        var count = 0;
        for (var r = items.Length - 1; r >= 0; r--)
        {
            var item = items[r];
            var w = weights[r];
            if ((uint)item >= (uint)ItemCount || !(w >= minWeight))
            {
                continue;
            }

            var at = anchors[..count].IndexOf(item);
            if (at >= 0)
            {
                anchorWeights[at] = Math.Max(anchorWeights[at], w);
            }
            else if (count < anchors.Length)
            {
                anchors[count] = item;
                anchorWeights[count] = w;
                count++;
            }
        }

        return count;
    }

    private static string KindName(CoOccurrenceKind kind) => kind == CoOccurrenceKind.Analogs ? "analogs" : "complements";

    private static string MeasureName(CoOccurrenceMeasure measure) => measure switch
    {
        CoOccurrenceMeasure.Pmi => "pmi",
        CoOccurrenceMeasure.Swing => "swing",
        _ => "count",
    };
}
