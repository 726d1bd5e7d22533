using Ranking.Data;

namespace Ranking.Candidates;

/// <summary>Settings of <see cref="PopularityModel"/>.</summary>
public sealed record PopularityOptions
{
    /// <summary>An event's weight halves every this many days before the reference time; 0 or less turns decay off.</summary>
    public double HalfLifeDays { get; init; } = 30;

    /// <summary>The time decay counts from; null takes the newest event of the log.</summary>
    public DateTimeOffset? ReferenceTime { get; init; }
}

/// <summary>
/// Time-decayed popularity, global and per category: each event adds its type weight × 2^(−age / half-life). The
/// last-resort fallback: it answers for every user, known or not, and for every item of a known category.
/// </summary>
public sealed class PopularityModel : ICandidateGenerator, IItemSimilarity
{
    private const string Kind = "popularity";
    private const int FormatVersion = 1;

    private readonly float[] _scores;
    private readonly int[] _category;
    private readonly int[] _byCategoryOffsets;
    private readonly int[] _byCategory;

    private PopularityModel(float[] scores, int[] category, long referenceMs)
    {
        _scores = scores;
        _category = category;
        ReferenceTimeMs = referenceMs;
        (_byCategoryOffsets, _byCategory) = GroupByCategory(scores, category);
    }

    public string Name => "popularity";

    public int ItemCount => _scores.Length;

    /// <summary>Unix milliseconds the decay counted from.</summary>
    public long ReferenceTimeMs { get; }

    /// <summary>The decayed popularity of each item (0 for items without events).</summary>
    public ReadOnlySpan<float> Scores => _scores;

    /// <summary>Counts every event with an item; events after the reference time count fully (no growth).</summary>
    public static PopularityModel Train(InteractionLog log, PopularityOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(log);
        options ??= new PopularityOptions();
        if (!double.IsFinite(options.HalfLifeDays))
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.HalfLifeDays, "HalfLifeDays must be finite.");
        }

        long reference;
        if (options.ReferenceTime is { } t)
        {
            reference = t.ToUnixTimeMilliseconds();
        }
        else
        {
            reference = 0;
            foreach (var ts in log.TimestampMs)
            {
                reference = Math.Max(reference, ts);
            }
        }

        var scores = new float[log.ItemCount];
        var decayPerMs = options.HalfLifeDays > 0 ? Math.Log(2) / (options.HalfLifeDays * 86_400_000.0) : 0;
        for (var r = 0; r < log.Count; r++)
        {
            if ((r & 0xFFFFF) == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }

            var item = log.Item[r];
            if (item < 0)
            {
                continue;
            }

            var age = Math.Max(0, reference - log.TimestampMs[r]);
            scores[item] += (float)(log.Weight[r] * Math.Exp(-decayPerMs * age));
        }

        return new PopularityModel(scores, (int[])log.Items.CategoryIndex.Clone(), reference);
    }

    /// <summary>Global popularity for everyone: true even for an unknown user, false only when nothing has an event.</summary>
    public bool Score(in UserHistory user, Span<float> scores)
    {
        if (scores.Length != _scores.Length)
        {
            throw new ArgumentException($"Expected {_scores.Length} scores, got {scores.Length}.", nameof(scores));
        }

        var any = false;
        for (var i = 0; i < _scores.Length; i++)
        {
            var s = _scores[i];
            scores[i] = s > 0 ? s : float.NegativeInfinity;
            any |= s > 0;
        }

        return any;
    }

    /// <summary>The most popular items of a category (by <see cref="ItemTable.CategoryIndex"/>), best first; empty for
    /// an unknown category.</summary>
    public IReadOnlyList<ScoredItem> TopInCategory(int category, int k, ReadOnlySpan<int> exclude = default)
    {
        if ((uint)category >= (uint)(_byCategoryOffsets.Length - 1) || k <= 0)
        {
            return [];
        }

        var result = new List<ScoredItem>(k);
        for (var p = _byCategoryOffsets[category]; p < _byCategoryOffsets[category + 1] && result.Count < k; p++)
        {
            var item = _byCategory[p];
            if (!exclude.Contains(item))
            {
                result.Add(new ScoredItem(item, _scores[item]));
            }
        }

        return result;
    }

    /// <summary>The most popular other items of the item's category: the fallback for analogs. Empty for an item out of
    /// range or without a category.</summary>
    public IReadOnlyList<ScoredItem> Similar(int item, int k)
    {
        if ((uint)item >= (uint)_scores.Length || _category[item] < 0)
        {
            return [];
        }

        return TopInCategory(_category[item], k, [item]);
    }

    public void Save(Stream stream)
    {
        using var w = new ArtifactWriter(stream, Kind, FormatVersion, _scores.Length);
        w.Write(ReferenceTimeMs);
        w.WriteArray<float>(_scores);
        w.WriteArray<int>(_category);
    }

    /// <exception cref="InvalidDataException">Not a popularity artifact, another version, or truncated.</exception>
    public static PopularityModel Load(Stream stream)
    {
        using var r = new ArtifactReader(stream, Kind, FormatVersion);
        var reference = r.ReadInt64();
        var scores = r.ReadArray<float>();
        var category = r.ReadArray<int>();
        if (scores.Length != r.ItemCount || category.Length != r.ItemCount)
        {
            throw new InvalidDataException("The popularity artifact's arrays do not match its item count.");
        }

        return new PopularityModel(scores, category, reference);
    }

    // Items of each category sorted by descending score (items without events left out), as CSR.
    private static (int[] Offsets, int[] Items) GroupByCategory(float[] scores, int[] category)
    {
        var categories = 0;
        foreach (var c in category)
        {
            categories = Math.Max(categories, c + 1);
        }

        var offsets = new int[categories + 1];
        for (var i = 0; i < scores.Length; i++)
        {
            if (category[i] >= 0 && scores[i] > 0)
            {
                offsets[category[i] + 1]++;
            }
        }

        for (var c = 0; c < categories; c++)
        {
            offsets[c + 1] += offsets[c];
        }

        var items = new int[offsets[categories]];
        var cursor = offsets.AsSpan(0, categories).ToArray();
        for (var i = 0; i < scores.Length; i++)
        {
            if (category[i] >= 0 && scores[i] > 0)
            {
                items[cursor[category[i]]++] = i;
            }
        }

        for (var c = 0; c < categories; c++)
        {
            items.AsSpan(offsets[c], offsets[c + 1] - offsets[c])
                .Sort((a, b) => scores[b] != scores[a] ? scores[b].CompareTo(scores[a]) : a.CompareTo(b));
        }

        return (offsets, items);
    }
}
