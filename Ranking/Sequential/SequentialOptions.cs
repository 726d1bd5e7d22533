namespace Ranking.Sequential;

/// <summary>How the next-item loss draws the items a target competes with.</summary>
public enum NegativeSampling
{
    /// <summary>Uniform over the items seen in training.</summary>
    Uniform,

    /// <summary>Proportional to each item's number of training events, with the logQ correction (Yi et al., 2019).</summary>
    Popularity,
}

/// <summary>
/// Settings of <see cref="SequentialModel"/>: a SASRec-style causal transformer (Kang and McAuley, 2018) trained with
/// sampled softmax over many negatives (SASRec+, Klenitskiy and Vasilev, 2023) or full softmax. Defaults are the
/// published Amazon configuration (1 block, 64 wide, 50 positions, 256 negatives); they are starting points.
/// </summary>
public sealed record SequentialOptions
{
    /// <summary>Rows of the action-type table: "unknown" and one per byte code below 31.</summary>
    public const int ActionTypeRows = 32;

    /// <summary>Buckets of the time-gap table.</summary>
    public const int TimeGapBuckets = 12;

    /// <summary>Rows of the price-bucket table: "unknown" and the ten deciles of log(1 + price) over the catalogue.</summary>
    public const int PriceBuckets = 11;

    /// <summary>Rows of the surface table: "unknown" and one per surface code below 31.</summary>
    public const int SurfaceRows = 32;

    /// <summary>Rows of the token-role table: an event's own token, an anchor-item context, a query context.</summary>
    public const int RoleRows = 3;

    /// <summary>Transformer blocks. Default 1; 1 to 8.</summary>
    public int Layers { get; init; } = 1;

    /// <summary>Attention heads; must divide <see cref="Width"/>. Default 1.</summary>
    public int Heads { get; init; } = 1;

    /// <summary>Embedding and hidden width. Default 64; 8 to 1024.</summary>
    public int Width { get; init; } = 64;

    /// <summary>Hidden width of the feed-forward layer; 0 (default) means <see cref="Width"/>, as in SASRec.</summary>
    public int FeedForwardWidth { get; init; }

    /// <summary>Most recent items the model reads (and positions it learns). Default 50; 2 to 4096.</summary>
    public int MaxLength { get; init; } = 50;

    /// <summary>Dropout on the embeddings and on each block's two residual branches. Default 0.2; in [0, 0.9].</summary>
    public float Dropout { get; init; } = 0.2f;

    /// <summary>Peak learning rate of AdamW. Default 1e-3; finite and &gt; 0.</summary>
    public float LearningRate { get; init; } = 1e-3f;

    /// <summary>Decoupled weight decay on matrices and embeddings (not on norms and biases). Default 0; finite and ≥ 0.</summary>
    public float WeightDecay { get; init; }

    /// <summary>Optimiser steps of linear warm-up; the rate then falls linearly to a tenth at the last epoch. Default 100; ≥ 0.</summary>
    public int WarmupSteps { get; init; } = 100;

    /// <summary>The gradient's global norm is scaled down to this when larger. Default 1; 0 turns clipping off.</summary>
    public float GradientClip { get; init; } = 1f;

    /// <summary>Passes over the training sequences. Default 100; at least 1.</summary>
    public int Epochs { get; init; } = 100;

    /// <summary>Sequences (users) per optimiser step. Default 128; at least 1.</summary>
    public int BatchSize { get; init; } = 128;

    /// <summary>Sampled negatives per sequence, shared by its positions. Default 256; at least 1. Ignored with <see cref="FullSoftmax"/>.</summary>
    public int Negatives { get; init; } = 256;

    /// <summary>Negative distribution. Default <see cref="NegativeSampling.Uniform"/>.</summary>
    public NegativeSampling Sampling { get; init; } = NegativeSampling.Uniform;

    /// <summary>Cross-entropy over the whole catalogue instead of sampled negatives. Default false.</summary>
    public bool FullSoftmax { get; init; }

    /// <summary>With a validation split: stop after this many validations without a better NDCG@10 and keep the best
    /// weights. Default 5; at least 1.</summary>
    public int Patience { get; init; } = 5;

    /// <summary>Validate every this many epochs. Default 1; at least 1.</summary>
    public int ValidateEvery { get; init; } = 1;

    /// <summary>Validation users, drawn with the seed; null: all. Default 10,000.</summary>
    public int? ValidationUsers { get; init; } = 10_000;

    /// <summary>Gradient shards per batch: sequence b goes to shard b mod Shards, and shard gradients are added in shard
    /// order, so results do not depend on the thread count. Default 4; 1 to 64.</summary>
    public int Shards { get; init; } = 4;

    /// <summary>Seed of initial weights, shuffling, dropout and negatives. Default 42.</summary>
    public int Seed { get; init; } = 42;

    /// <summary>Threads: -1 (default) for all cores, else at least 1.</summary>
    public int MaxDegreeOfParallelism { get; init; } = -1;

    /// <summary>
    /// Adds a learned action-type embedding (one row per event-type code of the log's registry: view, cart, order,
    /// share, …) to each position's input. Row 0 is "unknown": a history given without <see cref="Candidates.UserHistory.Types"/>
    /// reads row 0 at every position (as does a code ≥ <see cref="ActionTypeRows"/> − 1). Default false (then the
    /// weights are those of the plain model). Saved from artifact version 2 on; exported to ONNX as the <c>types</c> input.
    /// </summary>
    public bool UseActionTypes { get; init; }

    /// <summary>
    /// Adds a learned embedding of the log-scaled time gap to the previous item event to each position's input, in
    /// <see cref="TimeGapBuckets"/> buckets: bucket 0 is "no previous event" (or no timestamps), bucket b ≥ 1 holds gaps
    /// of about [4^(b−1), 4^b) seconds (the last bucket everything from about 12 days). Default false.
    /// </summary>
    public bool UseTimeGaps { get; init; }

    /// <summary>
    /// Weight of the P(order) head's binary cross-entropy: at every position, σ(w·(state ⊙ e_next) + b) predicts
    /// whether the next item event is an order; added to the next-item loss. Default 0 (no head). Finite and ≥ 0.
    /// Shorthand for a <see cref="FeedbackHead"/> of type "order", which then comes first (before <see cref="FeedbackHeads"/>).
    /// </summary>
    public float OrderHeadWeight { get; init; }

    /// <summary>
    /// Feedback heads beyond <see cref="OrderHeadWeight"/>: each learns P(type | state, item), the probability that the
    /// next item event, if it is on the item, has the head's event type (cart, share, …), with its own weight on its
    /// binary cross-entropy; see <see cref="SequentialModel.PredictFeedback(in Candidates.UserHistory, in SequentialContext, int, string)"/>. Default none (then the weights are those of
    /// the plain model). Types are distinct, non-empty and not "order" when <see cref="OrderHeadWeight"/> &gt; 0; weights
    /// finite and &gt; 0. The list is copied; two options with equal heads in the same order are equal.
    /// </summary>
    public IReadOnlyList<FeedbackHead> FeedbackHeads
    {
        get => _feedbackHeads;
        init => _feedbackHeads = new FeedbackHeadCollection(value ?? throw new ArgumentNullException(nameof(value)));
    }

    private readonly FeedbackHeadCollection _feedbackHeads = FeedbackHeadCollection.Empty;

    /// <summary>
    /// Adds learned category, brand and price-bucket embeddings of each item (from the log's <see cref="Data.ItemTable"/>:
    /// full category path, brand, decile of log(1 + price) over the catalogue, each with an "unknown" row) to the item's
    /// vector, on the input side and on the output (scoring) side alike. An item with no training event is then
    /// scored by its content vector alone (its id row, never trained, is left out), so cold items the catalogue
    /// describes get a score instead of −∞. Default false. Exported to ONNX folded into the item table.
    /// </summary>
    public bool UseContentFeatures { get; init; }

    /// <summary>
    /// Adds a learned embedding of the surface each event happened on (home, search, analogs, …: the log's
    /// <see cref="Data.InteractionLog.Surface"/> codes, row 0 "unknown") to each token. Default false.
    /// </summary>
    public bool UseSurfaces { get; init; }

    /// <summary>
    /// Adds each item's text vector (<see cref="SequentialText.ItemVectors"/>, e.g. MiniLM of its title) through a learned
    /// projection to the item's vector, on the input and the scoring side, so that items with text but no training
    /// event are scored. Needs <see cref="SequentialText"/> with item vectors at training. Default false.
    /// </summary>
    public bool UseTextVectors { get; init; }

    /// <summary>
    /// Makes each search (an event with a query and no item) a token of its own: its query's text vector through a
    /// learned projection, plus its action-type, time-gap and surface rows. Needs <see cref="SequentialText.Encoder"/>.
    /// Default false.
    /// </summary>
    public bool UseSearchQueries { get; init; }

    /// <summary>
    /// Learns the scenario context: an event viewed next to an anchor item (analogs, complements) or under a query
    /// gets a context token just before it (the anchor's item vector, or the query's projected text vector, plus a
    /// role row), and a request's <see cref="SequentialContext"/> goes last, so that the state is the user's state in
    /// that scenario. Query contexts need <see cref="SequentialText.Encoder"/>; without one only anchors are learnt.
    /// Default false.
    /// </summary>
    public bool UseContext { get; init; }

    /// <summary>Whether the model reads token kinds beyond item events (search queries, context tokens).</summary>
    internal bool UsesExtraTokens => UseSearchQueries || UseContext;

    /// <summary>Every feedback head in parameter order: "order" first when <see cref="OrderHeadWeight"/> &gt; 0, then
    /// <see cref="FeedbackHeads"/>.</summary>
    internal IReadOnlyList<FeedbackHead> AllFeedbackHeads => OrderHeadWeight > 0
        ? [new FeedbackHead(Domain.EventTypeRegistry.Order, OrderHeadWeight), .. _feedbackHeads]
        : _feedbackHeads;

    /// <summary>The feed-forward width in effect.</summary>
    public int EffectiveFeedForwardWidth => FeedForwardWidth > 0 ? FeedForwardWidth : Width;

    /// <summary>Checks every setting.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A setting is outside its documented range.</exception>
    public void Validate()
    {
        Check(Layers is >= 1 and <= 8, nameof(Layers), Layers, "between 1 and 8");
        Check(Width is >= 8 and <= 1024, nameof(Width), Width, "between 8 and 1024");
        Check(Heads >= 1 && Width % Heads == 0, nameof(Heads), Heads, "at least 1 and divide Width");
        Check(FeedForwardWidth is >= 0 and <= 8192, nameof(FeedForwardWidth), FeedForwardWidth, "between 0 and 8192");
        Check(MaxLength is >= 2 and <= 4096, nameof(MaxLength), MaxLength, "between 2 and 4096");
        Check(Dropout is >= 0 and <= 0.9f, nameof(Dropout), Dropout, "in [0, 0.9]");
        Check(float.IsFinite(LearningRate) && LearningRate > 0, nameof(LearningRate), LearningRate, "finite and > 0");
        Check(float.IsFinite(WeightDecay) && WeightDecay >= 0, nameof(WeightDecay), WeightDecay, "finite and >= 0");
        Check(WarmupSteps >= 0, nameof(WarmupSteps), WarmupSteps, ">= 0");
        Check(float.IsFinite(GradientClip) && GradientClip >= 0, nameof(GradientClip), GradientClip, "finite and >= 0");
        Check(Epochs >= 1, nameof(Epochs), Epochs, "at least 1");
        Check(BatchSize >= 1, nameof(BatchSize), BatchSize, "at least 1");
        Check(Negatives >= 1, nameof(Negatives), Negatives, "at least 1");
        Check(Patience >= 1, nameof(Patience), Patience, "at least 1");
        Check(ValidateEvery >= 1, nameof(ValidateEvery), ValidateEvery, "at least 1");
        Check(ValidationUsers is null or >= 1, nameof(ValidationUsers), ValidationUsers, "null or at least 1");
        Check(Shards is >= 1 and <= 64, nameof(Shards), Shards, "between 1 and 64");
        Check(float.IsFinite(OrderHeadWeight) && OrderHeadWeight >= 0, nameof(OrderHeadWeight), OrderHeadWeight, "finite and >= 0");
        var types = new HashSet<string>(StringComparer.Ordinal);
        if (OrderHeadWeight > 0)
        {
            types.Add(Domain.EventTypeRegistry.Order);
        }

        foreach (var head in _feedbackHeads)
        {
            Check(
                head is not null && !string.IsNullOrEmpty(head.EventType) && types.Add(head.EventType) && float.IsFinite(head.Weight) && head.Weight > 0,
                nameof(FeedbackHeads), head, "heads of distinct, non-empty event types (not \"order\" with OrderHeadWeight > 0) with finite weights > 0");
        }

        Check(MaxDegreeOfParallelism is -1 or >= 1, nameof(MaxDegreeOfParallelism), MaxDegreeOfParallelism, "-1 or at least 1");
    }

    private static void Check(bool ok, string name, object? value, string rule)
    {
        if (!ok)
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be {rule}.");
        }
    }
}

/// <summary>A feedback head of <see cref="SequentialOptions.FeedbackHeads"/>: P(<paramref name="EventType"/>) of the next
/// item event, learnt with binary cross-entropy weighted by <paramref name="Weight"/>.</summary>
/// <param name="EventType">An event-type name of the log's registry ("cart", "share", …); a type the training log does
/// not know has no positives.</param>
/// <param name="Weight">Weight of the head's loss next to the next-item loss; finite and &gt; 0.</param>
public sealed record FeedbackHead(string EventType, float Weight);

/// <summary>An immutable copy of a feedback-head list that compares by value, so that options records stay comparable.</summary>
internal sealed class FeedbackHeadCollection : IReadOnlyList<FeedbackHead>, IEquatable<FeedbackHeadCollection>
{
    private readonly FeedbackHead[] _heads;

    public FeedbackHeadCollection(IEnumerable<FeedbackHead> heads) => _heads = [.. heads];

    public static FeedbackHeadCollection Empty { get; } = new([]);

    public int Count => _heads.Length;

    public FeedbackHead this[int index] => _heads[index];

    public IEnumerator<FeedbackHead> GetEnumerator() => ((IEnumerable<FeedbackHead>)_heads).GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

    public bool Equals(FeedbackHeadCollection? other) => other is not null && _heads.AsSpan().SequenceEqual(other._heads);

    public override bool Equals(object? obj) => Equals(obj as FeedbackHeadCollection);

    public override int GetHashCode()
    {
        var hash = default(HashCode);
        foreach (var head in _heads)
        {
            hash.Add(head);
        }

        return hash.ToHashCode();
    }

    public override string ToString() => $"[{string.Join(", ", _heads.Select(h => $"{h.EventType}: {h.Weight}"))}]";
}

/// <summary>One finished epoch of <see cref="SequentialModel"/> training.</summary>
/// <param name="Epoch">1-based.</param>
/// <param name="Loss">Mean next-item cross-entropy over the epoch's target positions.</param>
/// <param name="Seconds">Wall time of the epoch's training steps (validation not included).</param>
/// <param name="Positions">Target positions trained on in the epoch.</param>
/// <param name="ValidationNdcg">NDCG@10 on the validation split; null when not validated this epoch.</param>
public readonly record struct SequentialEpoch(int Epoch, double Loss, double Seconds, long Positions, double? ValidationNdcg);
