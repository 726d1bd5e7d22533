using Ranking.Data;

namespace Ranking.Candidates;

/// <summary>An item with a score, in a model's dense item indices.</summary>
public readonly record struct ScoredItem(int Item, float Score);

/// <summary>
/// What a generator knows of the user it scores: her dense index in the training log (-1 when the model never saw
/// her) and her history as item rows in time order, with each event's weight and time. Item-based generators read
/// the history; factor models read the index (and may fold the history in).
/// </summary>
public readonly struct UserHistory
{
    public UserHistory(int user, ReadOnlyMemory<int> items, ReadOnlyMemory<float> weights, ReadOnlyMemory<long> timestampsMs)
        : this(user, items, weights, timestampsMs, default)
    {
    }

    /// <summary>A history with each event's type code (as in <see cref="InteractionLog.Type"/>).</summary>
    /// <param name="user">Dense user index, or -1.</param>
    /// <param name="items">Item index per event, oldest first.</param>
    /// <param name="weights">Event weight per event.</param>
    /// <param name="timestampsMs">Event time per event.</param>
    /// <param name="types">Event type code per event, or empty when unknown.</param>
    public UserHistory(int user, ReadOnlyMemory<int> items, ReadOnlyMemory<float> weights, ReadOnlyMemory<long> timestampsMs, ReadOnlyMemory<byte> types)
    {
        if (weights.Length != items.Length || timestampsMs.Length != items.Length)
        {
            throw new ArgumentException("Items, weights and timestamps must have the same length.", nameof(weights));
        }

        if (!types.IsEmpty && types.Length != items.Length)
        {
            throw new ArgumentException("Types must be empty or as long as the items.", nameof(types));
        }

        User = user;
        Items = items;
        Weights = weights;
        TimestampsMs = timestampsMs;
        Types = types;
    }

    /// <summary>Dense user index; -1 for a user the model was not trained on.</summary>
    public int User { get; }

    /// <summary>Item index per event, oldest first; -1 for events without an item (searches).</summary>
    public ReadOnlyMemory<int> Items { get; }

    /// <summary>The event type weight per event.</summary>
    public ReadOnlyMemory<float> Weights { get; }

    public ReadOnlyMemory<long> TimestampsMs { get; }

    /// <summary>The event type code per event (the log's <see cref="Ranking.Domain.EventTypeRegistry"/> codes); empty when the caller
    /// did not give them. <see cref="Of"/> fills it.</summary>
    public ReadOnlyMemory<byte> Types { get; }

    /// <summary>Surface code per event (0 none, else 1 + index in the log's <see cref="InteractionLog.Surfaces"/>); empty
    /// when unknown. Read by the transformer with <see cref="Sequential.SequentialOptions.UseSurfaces"/>.</summary>
    public ReadOnlyMemory<byte> Surfaces { get; init; }

    /// <summary>Query per event as an index into <see cref="QueryTexts"/> (-1 none); empty when unknown.</summary>
    public ReadOnlyMemory<int> QueryIds { get; init; }

    /// <summary>The texts <see cref="QueryIds"/> index; null when there are none.</summary>
    public IReadOnlyList<string>? QueryTexts { get; init; }

    /// <summary>Anchor item per event (the item whose analogs or complements carousel it happened in; -1 none); empty
    /// when unknown.</summary>
    public ReadOnlyMemory<int> ContextItems { get; init; }

    public bool IsEmpty => Items.IsEmpty;

    /// <summary>A user nobody knows: no index and no events.</summary>
    public static UserHistory Unknown { get; } = new(-1, default, default, default);

    /// <summary>
    /// The distinct items of the history with their summed event weights, the most recently touched first, at most
    /// <paramref name="maxItems"/> of them. Events without an item are skipped.
    /// </summary>
    public (int[] Items, float[] Weights) DistinctItems(int maxItems = int.MaxValue)
    {
        var items = Items.Span;
        var weights = Weights.Span;
        var order = new List<int>();
        var sums = new Dictionary<int, float>();
        for (var r = items.Length - 1; r >= 0; r--)
        {
            var item = items[r];
            if (item < 0)
            {
                continue;
            }

            if (sums.TryGetValue(item, out var sum))
            {
                sums[item] = sum + weights[r];
            }
            else if (order.Count < maxItems)
            {
                order.Add(item);
                sums[item] = weights[r];
            }
        }

        var w = new float[order.Count];
        for (var k = 0; k < w.Length; k++)
        {
            w[k] = sums[order[k]];
        }

        return ([.. order], w);
    }

    /// <summary>The whole history of one user of a log.</summary>
    public static UserHistory Of(InteractionLog log, int user)
    {
        ArgumentNullException.ThrowIfNull(log);
        if ((uint)user >= (uint)log.UserCount)
        {
            return Unknown;
        }

        var rows = log.RowsOf(user);
        var (start, length) = rows.GetOffsetAndLength(log.Count);
        return new UserHistory(
            user,
            log.Item.AsMemory(start, length),
            log.Weight.AsMemory(start, length),
            log.TimestampMs.AsMemory(start, length),
            log.Type.AsMemory(start, length))
        {
            Surfaces = log.Surface.AsMemory(start, length),
            QueryIds = log.Query.AsMemory(start, length),
            QueryTexts = log.Queries,
            ContextItems = log.ContextItem.AsMemory(start, length),
        };
    }
}

/// <summary>
/// A candidate source: scores the whole catalogue for a user. Trained from an <see cref="InteractionLog"/> (its
/// event-type weights respected) by each generator's own <c>Train</c>, saved with <c>Save</c> and read back with
/// <c>Load</c>.
/// </summary>
public interface ICandidateGenerator
{
    /// <summary>Short name for reports ("als", "ease").</summary>
    string Name { get; }

    /// <summary>Size of the item index space the model scores.</summary>
    int ItemCount { get; }

    /// <summary>
    /// Writes a score for every item into <paramref name="scores"/> (length <see cref="ItemCount"/>); higher is
    /// better; items the model cannot score get <see cref="float.NegativeInfinity"/>.
    /// </summary>
    /// <returns>False when the model has nothing to say about this user (then the scores are undefined).</returns>
    bool Score(in UserHistory user, Span<float> scores);
}

/// <summary>An item-to-item source: analogs, complements, neighbours.</summary>
public interface IItemSimilarity
{
    string Name { get; }

    /// <summary>The <paramref name="k"/> items most related to <paramref name="item"/>, best first, without the item
    /// itself; empty for an item the model never saw or an index out of range.</summary>
    IReadOnlyList<ScoredItem> Similar(int item, int k);
}

/// <summary>Top-K selection shared by every generator.</summary>
public static class CandidateGeneratorExtensions
{
    /// <summary>
    /// The <paramref name="k"/> best-scored items for a user, best first, leaving out <paramref name="exclude"/>
    /// and items the model cannot score. Empty for a user the model knows nothing of.
    /// </summary>
    public static IReadOnlyList<ScoredItem> TopK(this ICandidateGenerator generator, in UserHistory user, int k, ReadOnlySpan<int> exclude = default)
    {
        ArgumentNullException.ThrowIfNull(generator);
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        if (k == 0)
        {
            return [];
        }

        var scores = new float[generator.ItemCount];
        if (!generator.Score(user, scores))
        {
            return [];
        }

        TopKSelector.Exclude(scores, exclude);
        return TopKSelector.Select(scores, k);
    }
}
