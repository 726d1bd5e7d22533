using Ranking.Candidates;

namespace Ranking.Sequential;

/// <summary>What the user is looking at when the transformer is asked: its token goes last, after her history.</summary>
public enum SequentialContextKind
{
    /// <summary>No context: the home feed. No token is added.</summary>
    None,

    /// <summary>An anchor item: the analogs or complements of that item.</summary>
    Anchor,

    /// <summary>A search query: results for that text.</summary>
    Query,
}

/// <summary>
/// The scenario context of a <see cref="SequentialModel"/> request (<see cref="SequentialOptions.UseContext"/>): nothing
/// (home), an anchor item (analogs, complements) or a query (search), and the surface it is shown on. With context
/// the model appends one token after the history and the user state is the output there; the model learnt such tokens
/// from the events that carried an anchor (<see cref="Domain.UserEvent.ContextItemId"/>) or a query.
/// </summary>
/// <param name="Kind">Which context.</param>
/// <param name="AnchorItem">The anchor's item index (with <see cref="SequentialContextKind.Anchor"/>); else -1.</param>
/// <param name="QueryText">The query (with <see cref="SequentialContextKind.Query"/>); else null.</param>
/// <param name="Surface">Surface code in the training log's space (0 for none; see <see cref="Data.InteractionLog.Surfaces"/>).</param>
public readonly record struct SequentialContext(SequentialContextKind Kind, int AnchorItem, string? QueryText, byte Surface)
{
    /// <summary>No context (the home feed).</summary>
    public static SequentialContext Home => default(SequentialContext) with { AnchorItem = -1 };

    /// <summary>The analogs or complements of an item.</summary>
    public static SequentialContext Anchor(int item, byte surface = 0) => new(SequentialContextKind.Anchor, item, null, surface);

    /// <summary>Results for a query.</summary>
    public static SequentialContext Search(string query, byte surface = 0) => new(SequentialContextKind.Query, -1, query, surface);
}

/// <summary>Anything that scores the whole catalogue for a history in a scenario: the model itself, its ONNX Runtime
/// session, and the cached serving source.</summary>
public interface ISequentialScorer
{
    /// <summary>Size of the item index space.</summary>
    int ItemCount { get; }

    /// <summary>Writes a score per item (−∞ for items it cannot score) for the history and the context's token last.</summary>
    /// <returns>False when there is no token.</returns>
    bool Score(in UserHistory user, in SequentialContext context, Span<float> scores);
}

/// <summary>Top-K selection for every <see cref="ISequentialScorer"/>.</summary>
public static class SequentialScorerExtensions
{
    /// <summary>The <paramref name="k"/> best items for a history in a scenario, best first, without
    /// <paramref name="exclude"/> and items the scorer cannot score; empty when the history and context have no token.</summary>
    public static IReadOnlyList<ScoredItem> TopK(
        this ISequentialScorer scorer, in UserHistory user, in SequentialContext context, int k, ReadOnlySpan<int> exclude = default)
    {
        ArgumentNullException.ThrowIfNull(scorer);
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        var scores = new float[scorer.ItemCount];
        if (k == 0 || !scorer.Score(user, context, scores))
        {
            return [];
        }

        TopKSelector.Exclude(scores, exclude);
        return TopKSelector.Select(scores, k);
    }
}

/// <summary>
/// A history laid out as the transformer's tokens, oldest first: one per item event, one per search query (with
/// <see cref="SequentialOptions.UseSearchQueries"/>), a context token before an event that happened next to an anchor
/// or under a query (with <see cref="SequentialOptions.UseContext"/>), and optionally the request's context token last.
/// </summary>
internal sealed class SequentialTokens
{
    /// <summary>Item id of a token that has no item (a query token, or a query context).</summary>
    public const int NoItem = -2;

    /// <summary>Role of an event's own token.</summary>
    public const int EventRole = 0;

    /// <summary>Role of an anchor-item context token.</summary>
    public const int AnchorRole = 1;

    /// <summary>Role of a query context token.</summary>
    public const int QueryRole = 2;

    public SequentialTokens(int capacity)
    {
        Capacity = capacity;
        Ids = new int[capacity];
        Types = new int[capacity];
        Gaps = new int[capacity];
        Surfaces = new int[capacity];
        Roles = new int[capacity];
        QueryKeys = new int[capacity];
        Rows = new int[capacity];
    }

    public int Capacity { get; }

    public int Count { get; set; }

    /// <summary>Item index, or <see cref="NoItem"/>.</summary>
    public int[] Ids { get; }

    /// <summary>Action-type row (<see cref="ParameterLayout.TypeRow"/>; 0 for context tokens).</summary>
    public int[] Types { get; }

    /// <summary>Time-gap bucket to the previous event token (0 for context tokens).</summary>
    public int[] Gaps { get; }

    /// <summary>Surface row (<see cref="ParameterLayout.SurfaceRow"/>).</summary>
    public int[] Surfaces { get; }

    /// <summary><see cref="EventRole"/>, <see cref="AnchorRole"/> or <see cref="QueryRole"/>.</summary>
    public int[] Roles { get; }

    /// <summary>For a token without an item: the key of its query vector (see <see cref="TokenSource.QueryVector"/>); else -1.</summary>
    public int[] QueryKeys { get; }

    /// <summary>The history row the token comes from; -1 for the request's context token.</summary>
    public int[] Rows { get; }

    public void Add(int id, int type, int gap, int surface, int role, int queryKey, int row)
    {
        var t = Count++;
        Ids[t] = id;
        Types[t] = type;
        Gaps[t] = gap;
        Surfaces[t] = surface;
        Roles[t] = role;
        QueryKeys[t] = queryKey;
        Rows[t] = row;
    }
}

/// <summary>
/// One user's events as the token builder reads them (columns of equal length, oldest first; optional columns empty),
/// and which inputs the model has.
/// </summary>
internal readonly ref struct TokenSource
{
    public required ReadOnlySpan<int> Items { get; init; }

    public ReadOnlySpan<byte> Types { get; init; }

    public ReadOnlySpan<long> Timestamps { get; init; }

    public ReadOnlySpan<byte> Surfaces { get; init; }

    public ReadOnlySpan<int> QueryIds { get; init; }

    public ReadOnlySpan<int> ContextItems { get; init; }

    /// <summary>Whether the query of a key has a vector (the caller then writes it when asked).</summary>
    public required Func<int, bool> QueryVector { get; init; }

    public required int ItemCount { get; init; }

    public required bool Queries { get; init; }

    public required bool Context { get; init; }

    /// <summary>Tokens of row <paramref name="r"/>: (whether it has an event token, whether it has a context token before it).</summary>
    public (bool Event, bool Context) TokensOf(int r)
    {
        var item = Items[r];
        var query = QueryIds.IsEmpty ? -1 : QueryIds[r];
        if (item >= 0)
        {
            if (item >= ItemCount)
            {
                throw new ArgumentException($"Item {item} is outside the model's {ItemCount} items.", "history");
            }

            var anchor = ContextItems.IsEmpty ? -1 : ContextItems[r];
            var context = Context && ((anchor >= 0 && anchor < ItemCount && anchor != item) || (query >= 0 && QueryVector(query)));
            return (true, context);
        }

        return (Queries && query >= 0 && QueryVector(query), false);
    }

    /// <summary>
    /// Lays out the tokens of rows [0, <paramref name="endRow"/>), keeping the newest <paramref name="maxTokens"/> of
    /// them, into <paramref name="tokens"/> (cleared first).
    /// </summary>
    public void LayOut(int endRow, int maxTokens, SequentialTokens tokens)
    {
        tokens.Count = 0;

        // Walk back to find the oldest row whose tokens are kept (and how many of its tokens fit).
        var budget = maxTokens;
        var start = endRow;
        var skipContextOfStart = false;
        for (var r = endRow - 1; r >= 0 && budget > 0; r--)
        {
            var (hasEvent, hasContext) = TokensOf(r);
            var n = (hasEvent ? 1 : 0) + (hasContext ? 1 : 0);
            if (n == 0)
            {
                continue;
            }

            start = r;
            skipContextOfStart = hasContext && budget < n;
            budget -= Math.Min(budget, n);
        }

        // The event token before the oldest kept one, for its time gap.
        var previous = -1;
        for (var r = start - 1; r >= 0; r--)
        {
            if (TokensOf(r).Event)
            {
                previous = r;
                break;
            }
        }

        for (var r = start; r < endRow; r++)
        {
            var (hasEvent, hasContext) = TokensOf(r);
            if (!hasEvent)
            {
                continue;
            }

            var surface = Surfaces.IsEmpty ? 0 : ParameterLayout.SurfaceRow(Surfaces[r]);
            if (hasContext && !(r == start && skipContextOfStart))
            {
                var anchor = ContextItems.IsEmpty ? -1 : ContextItems[r];
                if (anchor >= 0 && anchor < ItemCount && anchor != Items[r])
                {
                    tokens.Add(anchor, 0, 0, surface, SequentialTokens.AnchorRole, -1, r);
                }
                else
                {
                    tokens.Add(SequentialTokens.NoItem, 0, 0, surface, SequentialTokens.QueryRole, QueryIds[r], r);
                }
            }

            var type = Types.IsEmpty ? 0 : ParameterLayout.TypeRow(Types[r]);
            var gap = Timestamps.IsEmpty || previous < 0 ? 0 : ParameterLayout.GapBucket(Timestamps[r] - Timestamps[previous]);
            var id = Items[r] >= 0 ? Items[r] : SequentialTokens.NoItem;
            tokens.Add(id, type, gap, surface, SequentialTokens.EventRole, id >= 0 ? -1 : QueryIds[r], r);
            previous = r;
        }
    }
}

/// <summary>Item text vectors and a query encoder for <see cref="SequentialOptions.UseTextVectors"/>,
/// <see cref="SequentialOptions.UseSearchQueries"/> and query contexts.</summary>
public sealed class SequentialText
{
    /// <summary>Text inputs.</summary>
    /// <param name="dimension">Length of every text vector; 1 to 4096.</param>
    /// <param name="itemVectors">Items × <paramref name="dimension"/>, row-major, in the training log's item indices (a
    /// zero row: no text); null without item text.</param>
    /// <param name="encoder">Encodes queries (and nothing else); null without queries.</param>
    /// <exception cref="ArgumentException">The encoder's dimension differs, or the vectors are not whole rows.</exception>
    public SequentialText(int dimension, float[]? itemVectors, ITextEncoder? encoder)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(dimension, 4096);
        if (encoder is not null && encoder.Dimension != dimension)
        {
            throw new ArgumentException($"The encoder writes {encoder.Dimension} floats, not {dimension}.", nameof(encoder));
        }

        if (itemVectors is not null && itemVectors.Length % dimension != 0)
        {
            throw new ArgumentException($"The item vectors are not rows of {dimension}.", nameof(itemVectors));
        }

        Dimension = dimension;
        ItemVectors = itemVectors;
        Encoder = encoder;
    }

    public int Dimension { get; }

    public float[]? ItemVectors { get; }

    public ITextEncoder? Encoder { get; }

    /// <summary>Encodes every title (with brand and category) of a log's catalogue, for <see cref="SequentialOptions.UseTextVectors"/>;
    /// items the catalogue does not describe get a zero row.</summary>
    public static SequentialText FromCatalogue(Data.InteractionLog log, ITextEncoder encoder, bool withQueries, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(log);
        ArgumentNullException.ThrowIfNull(encoder);
        var texts = new List<string>();
        var rows = new List<int>();
        for (var i = 0; i < log.ItemCount; i++)
        {
            var text = log.Items.IsKnown(i) ? log.Items.TextOf(i) : null;
            if (!string.IsNullOrWhiteSpace(text))
            {
                texts.Add(text);
                rows.Add(i);
            }
        }

        var t = encoder.Dimension;
        var encoded = new float[texts.Count * t];
        encoder.Encode(texts, encoded, cancellationToken);
        var vectors = new float[log.ItemCount * t];
        for (var k = 0; k < rows.Count; k++)
        {
            encoded.AsSpan(k * t, t).CopyTo(vectors.AsSpan(rows[k] * t, t));
        }

        return new SequentialText(t, vectors, withQueries ? encoder : null);
    }
}
