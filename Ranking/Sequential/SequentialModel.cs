using System.Collections.Concurrent;
using System.Numerics.Tensors;
using Ranking.Candidates;
using Ranking.Data;
using Ranking.Domain;
using Ranking.Evaluation;

namespace Ranking.Sequential;

/// <summary>
/// A SASRec-style next-item model: a causal transformer (pre-norm blocks of multi-head self-attention and a GELU
/// feed-forward layer, learned positions) reads the user's most recent events; the output at the last position is
/// the user state, and an item's score is its dot product with the item's embedding (the input table, tied).
/// Forward and backward passes are written by hand on flat float arrays (see <see cref="SequentialNetwork"/>).
/// </summary>
/// <remarks>
/// <para>Training uses every prefix position of each user's last <see cref="SequentialOptions.MaxLength"/> + 1
/// tokens, each predicting the next item event, with sampled softmax (or full softmax), AdamW with warm-up, decay and
/// gradient clipping, and optional early stopping on leave-one-out validation NDCG@10. The same data and options give
/// the same weights bit for bit on any number of threads.</para>
/// <para>Tokens: one per item event; with <see cref="SequentialOptions.UseSearchQueries"/> one per search with a query
/// (otherwise events without an item are skipped); with <see cref="SequentialOptions.UseContext"/> a context token
/// before each event shown next to an anchor or under a query, and the request's <see cref="SequentialContext"/> last.
/// Items with no training event are never recommended (they score −∞), unless content features or text vectors
/// describe them. A history without any token gets no answer (<see cref="Score(in UserHistory, Span{float})"/>
/// returns false).</para>
/// </remarks>
public sealed class SequentialModel : ICandidateGenerator, ISequentialScorer
{
    private const string ArtifactKind = "sequential";
    private const int ArtifactVersion = 5;
    private const int QueryCacheSize = 4096;

    private readonly int[] _itemCounts;
    private readonly ConcurrentBag<Workspace> _workspaces = [];
    private readonly ConcurrentDictionary<string, float[]> _queryCache = new(StringComparer.Ordinal);
    private readonly bool[] _hasText;
    private readonly float[] _projected;
    private int _trainingQueries;

    private SequentialModel(
        SequentialOptions options, int itemCount, float[] parameters, int[] itemCounts, int orderCode, int[] feedbackCodes, ItemContent? content = null,
        ModelText? text = null)
    {
        OrderCode = orderCode;
        Options = options;
        ItemCount = itemCount;
        Content = content;
        text ??= ModelText.None;
        TextVectors = text.ItemVectors;
        SurfaceNames = text.SurfaceNames;
        QueryEncoder = text.Encoder;
        _hasText = new bool[itemCount];
        Layout = new ParameterLayout(itemCount, options, content, text.Dimension);
        if (TextVectors is { } vectors)
        {
            if (vectors.Length != itemCount * Layout.TextDimension)
            {
                throw new ArgumentException("One text vector per item is needed.", nameof(text));
            }

            for (var i = 0; i < itemCount; i++)
            {
                _hasText[i] = TensorPrimitives.SumOfSquares(vectors.AsSpan(i * Layout.TextDimension, Layout.TextDimension)) > 0;
            }
        }
        if (feedbackCodes.Length != Layout.FeedbackTypes.Length)
        {
            throw new ArgumentException("One event-type code per feedback head is needed.", nameof(feedbackCodes));
        }

        FeedbackCodes = feedbackCodes;
        ParameterArray = parameters;
        _itemCounts = itemCounts;
        EffectiveParameters = content is null && TextVectors is null ? parameters : new float[parameters.Length];
        _projected = TextVectors is null ? [] : new float[itemCount * Width];
        RefreshEffective();
    }

    public string Name => "sequential";

    public int ItemCount { get; }

    /// <summary>The settings the model was trained with.</summary>
    public SequentialOptions Options { get; }

    /// <summary>Width of the user state and of every item embedding.</summary>
    public int Width => Options.Width;

    /// <summary>Number of trainable floats.</summary>
    public int ParameterCount => Layout.Total;

    /// <summary>Epochs trained (when training stopped early, fewer than <see cref="SequentialOptions.Epochs"/>); 0 after <see cref="Load"/>.</summary>
    public int EpochsRun { get; internal set; }

    /// <summary>The epoch whose weights were kept (the best validation NDCG@10); 0 without validation or after <see cref="Load"/>.</summary>
    public int BestEpoch { get; internal set; }

    /// <summary>The item embedding table, row-major: item i is <c>[i · Width, (i + 1) · Width)</c>. With
    /// <see cref="SequentialOptions.UseContentFeatures"/> each row is the item's id row (left out for items with no
    /// training event) plus its category, brand and price-bucket rows.</summary>
    public ReadOnlySpan<float> ItemEmbeddings => EffectiveParameters.AsSpan(Layout.ItemTable, ItemCount * Width);

    internal ParameterLayout Layout { get; }

    internal float[] ParameterArray { get; }

    /// <summary>The weights the network reads: <see cref="ParameterArray"/> itself, or with content features a copy
    /// whose item table holds each item's full vector (see <see cref="ItemEmbeddings"/>).</summary>
    internal float[] EffectiveParameters { get; }

    /// <summary>The items' content rows; null without content features.</summary>
    internal ItemContent? Content { get; }

    /// <summary>The training log's event-type code of "order" (the P(order) head's positives); -1 when unknown.</summary>
    internal int OrderCode { get; }

    /// <summary>The training log's event-type code of each feedback head (<see cref="SequentialOptions.AllFeedbackHeads"/>,
    /// the heads' positives); -1 for a type the log does not know.</summary>
    internal int[] FeedbackCodes { get; }

    /// <summary>Item text vectors (items × <see cref="ParameterLayout.TextDimension"/>) with <see cref="SequentialOptions.UseTextVectors"/>; else null.</summary>
    internal float[]? TextVectors { get; }

    /// <summary>The training log's surface names (code c is <c>SurfaceNames[c - 1]</c>).</summary>
    public IReadOnlyList<string> SurfaceNames { get; }

    /// <summary>Encodes queries the model has not seen (search tokens, query contexts); null: such queries are left out.</summary>
    public Candidates.ITextEncoder? QueryEncoder { get; private set; }

    /// <summary>Sets the query encoder (after <see cref="Load"/>: the encoder is not saved). It must write vectors of the
    /// training encoder's dimension; the model was trained on that encoder's vectors, so use the same model.</summary>
    /// <exception cref="ArgumentException">The dimension differs from the model's.</exception>
    public void AttachQueryEncoder(Candidates.ITextEncoder? encoder)
    {
        if (encoder is not null && encoder.Dimension != Layout.TextDimension)
        {
            throw new ArgumentException($"The model reads text vectors of {Layout.TextDimension} floats; the encoder writes {encoder.Dimension}.", nameof(encoder));
        }

        QueryEncoder = encoder;
        _queryCache.Clear();
    }

    /// <summary>The surface code (in the training log's space) of a surface name; 0 when unknown.</summary>
    public byte SurfaceCode(string? surface)
    {
        for (var k = 0; k < SurfaceNames.Count; k++)
        {
            if (string.Equals(SurfaceNames[k], surface, StringComparison.Ordinal))
            {
                return (byte)(k + 1);
            }
        }

        return 0;
    }

    /// <summary>Recomputes <see cref="EffectiveParameters"/> after <see cref="ParameterArray"/> changed.</summary>
    internal void RefreshEffective()
    {
        var content = Content;
        if (content is null && TextVectors is null)
        {
            return;
        }

        var p = ParameterArray;
        var e = EffectiveParameters;
        p.CopyTo(e, 0);
        var d = Width;
        var layout = Layout;
        if (TextVectors is { } text)
        {
            var t = layout.TextDimension;
            MatrixKernels.Multiply(text, p.AsSpan(layout.TextProjection, t * d), _projected, ItemCount, t, d, accumulate: false);
        }

        for (var i = 0; i < ItemCount; i++)
        {
            var row = e.AsSpan(layout.ItemTable + (i * d), d);
            if (_itemCounts[i] == 0)
            {
                row.Clear();
            }

            if (content is not null)
            {
                TensorPrimitives.Add(row, p.AsSpan(layout.CategoryTable + (content.Category[i] * d), d), row);
                TensorPrimitives.Add(row, p.AsSpan(layout.BrandTable + (content.Brand[i] * d), d), row);
                TensorPrimitives.Add(row, p.AsSpan(layout.PriceTable + (content.Price[i] * d), d), row);
            }

            if (TextVectors is not null)
            {
                TensorPrimitives.Add(row, _projected.AsSpan(i * d, d), row);
            }
        }
    }

    /// <summary>
    /// Trains a model on a log. With <paramref name="validation"/> (for example
    /// <c>Splits.LeaveOneOut(log, LeaveOneOutStage.Validation)</c> whose <c>Train</c> is <paramref name="train"/>), NDCG@10
    /// is measured every <see cref="SequentialOptions.ValidateEvery"/> epochs and the best weights are kept.
    /// </summary>
    /// <param name="train">The training log.</param>
    /// <param name="options">The settings.</param>
    /// <param name="validation">A leave-one-out validation split; null: no early stopping.</param>
    /// <param name="progress">Receives each finished epoch.</param>
    /// <param name="cancellationToken">Stops between steps.</param>
    /// <param name="text">Item text vectors and the query encoder, needed by <see cref="SequentialOptions.UseTextVectors"/>,
    /// <see cref="SequentialOptions.UseSearchQueries"/> and the query contexts of <see cref="SequentialOptions.UseContext"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">Invalid options.</exception>
    /// <exception cref="ArgumentException">The validation split scores another item space, no user has two items, or the
    /// options need text inputs that <paramref name="text"/> does not give.</exception>
    public static SequentialModel Train(
        InteractionLog train, SequentialOptions options, EvaluationSplit? validation = null, IProgress<SequentialEpoch>? progress = null,
        CancellationToken cancellationToken = default, SequentialText? text = null)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (validation is not null && validation.Train.ItemCount != train.ItemCount)
        {
            throw new ArgumentException("The validation split must share the training log's item indices.", nameof(validation));
        }

        var (model, trainer) = Create(train, options, text, cancellationToken);
        if (trainer.SequenceCount == 0)
        {
            throw new ArgumentException("No user has two items to learn a transition from.", nameof(train));
        }

        trainer.Run(validation, progress, cancellationToken);
        return model;
    }

    /// <inheritdoc/>
    /// <remarks>Reads the last <see cref="SequentialOptions.MaxLength"/> tokens of the history (see <see cref="Score(in UserHistory, in SequentialContext, Span{float})"/>)
    /// with no context; the user index is not used, so unknown users with a history are scored too.</remarks>
    public bool Score(in UserHistory user, Span<float> scores) => Score(user, SequentialContext.Home, scores);

    /// <summary>
    /// Scores every item for a user in a scenario: the history's tokens (item events; searches with
    /// <see cref="SequentialOptions.UseSearchQueries"/>; context tokens with <see cref="SequentialOptions.UseContext"/>),
    /// then the context's token, and each item's dot product with the state at the last position. Items the model cannot
    /// score get −∞.
    /// </summary>
    /// <returns>False when the history has no token (then the scores are untouched).</returns>
    /// <exception cref="ArgumentException"><paramref name="scores"/> is not <see cref="ItemCount"/> long, or an item is out of range.</exception>
    public bool Score(in UserHistory user, in SequentialContext context, Span<float> scores)
    {
        if (scores.Length != ItemCount)
        {
            throw new ArgumentException($"Expected {ItemCount} scores, got {scores.Length}.", nameof(scores));
        }

        var d = Width;
        Span<float> state = d <= 256 ? stackalloc float[d] : new float[d];
        if (!TryComputeStateOf(user, context, state))
        {
            return false;
        }

        var table = ItemEmbeddings;
        for (var i = 0; i < scores.Length; i++)
        {
            scores[i] = IsScored(i) ? TensorPrimitives.Dot(table.Slice(i * d, d), state) : float.NegativeInfinity;
        }

        return true;
    }

    /// <summary>Scores of the given candidates (−∞ for an item the model cannot score), as <see cref="Score(in UserHistory, in SequentialContext, Span{float})"/>
    /// would give them, at the cost of one dot product each.</summary>
    /// <returns>False when the history has no token.</returns>
    /// <exception cref="ArgumentException">Lengths differ, or a candidate is out of range.</exception>
    public bool ScoreCandidates(in UserHistory user, in SequentialContext context, ReadOnlySpan<int> candidates, Span<float> scores)
    {
        if (scores.Length != candidates.Length)
        {
            throw new ArgumentException("One score per candidate is needed.", nameof(scores));
        }

        var d = Width;
        Span<float> state = d <= 256 ? stackalloc float[d] : new float[d];
        if (!TryComputeStateOf(user, context, state))
        {
            return false;
        }

        var table = ItemEmbeddings;
        for (var k = 0; k < candidates.Length; k++)
        {
            var i = candidates[k];
            if ((uint)i >= (uint)ItemCount)
            {
                throw new ArgumentException($"Candidate {i} is outside the model's {ItemCount} items.", nameof(candidates));
            }

            scores[k] = IsScored(i) ? TensorPrimitives.Dot(table.Slice(i * d, d), state) : float.NegativeInfinity;
        }

        return true;
    }


    /// <summary>
    /// The user state (length <see cref="Width"/>) after the given items, oldest first; only the last
    /// <see cref="SequentialOptions.MaxLength"/> items with index ≥ 0 count. Cache it: scoring a candidate is then one dot
    /// product with <see cref="ItemEmbeddings"/>.
    /// </summary>
    /// <returns>False when there is no item (negative indices are searches) — then <paramref name="state"/> is untouched.</returns>
    /// <exception cref="ArgumentException"><paramref name="state"/> is shorter than <see cref="Width"/>, or an item is ≥ <see cref="ItemCount"/>.</exception>
    public bool TryComputeState(ReadOnlySpan<int> items, Span<float> state)
    {
        return ComputeState(Source(items, default, default), SequentialContext.Home, null, state);
    }

    /// <summary>
    /// The user state after a history, as <see cref="TryComputeState"/>, also reading
    /// the event types (with <see cref="SequentialOptions.UseActionTypes"/>; empty types read the "unknown" row), times
    /// (with <see cref="SequentialOptions.UseTimeGaps"/>), surfaces, queries and anchors (with the options that read them).
    /// </summary>
    /// <returns>False when there is no token.</returns>
    public bool TryComputeStateOf(in UserHistory history, Span<float> state) => TryComputeStateOf(history, SequentialContext.Home, state);

    /// <summary>The user state after a history in a scenario: the state at the context's token, appended after the
    /// history's tokens (with <see cref="SequentialOptions.UseContext"/>; otherwise the context is not read). A query
    /// context without a <see cref="QueryEncoder"/> adds no token.</summary>
    /// <returns>False when there is no token.</returns>
    public bool TryComputeStateOf(in UserHistory history, in SequentialContext context, Span<float> state)
    {
        return ComputeState(SourceOf(history), context, history.QueryTexts, state);
    }

    /// <summary>The event type of each feedback head, in parameter order ("order" first when <see cref="SequentialOptions.OrderHeadWeight"/> &gt; 0).</summary>
    public IReadOnlyList<string> FeedbackHeadTypes => Layout.FeedbackTypes;

    /// <summary>
    /// P(order) of the P(order) head (<see cref="SequentialOptions.OrderHeadWeight"/> &gt; 0): the probability that
    /// the user's next event, if it is on <paramref name="item"/>, is an order.
    /// </summary>
    /// <returns>The probability; NaN when the history has no item.</returns>
    /// <exception cref="InvalidOperationException">The model was trained without the head.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="item"/> is outside the item space.</exception>
    public float PredictOrder(in UserHistory history, int item)
    {
        if (Layout.FeedbackHeadOf(EventTypeRegistry.Order) < 0)
        {
            throw new InvalidOperationException("The model was trained without the P(order) head (OrderHeadWeight = 0).");
        }

        return PredictFeedback(history, item, EventTypeRegistry.Order);
    }

    /// <summary>
    /// The probability, by the feedback head of <paramref name="eventType"/> (<see cref="SequentialOptions.FeedbackHeads"/>,
    /// or "order" with <see cref="SequentialOptions.OrderHeadWeight"/>), that the user's next event, if it is on
    /// <paramref name="item"/>, has that type.
    /// </summary>
    /// <returns>The probability; NaN when the history has no item.</returns>
    /// <exception cref="InvalidOperationException">The model was trained without a head for <paramref name="eventType"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="item"/> is outside the item space.</exception>
    public float PredictFeedback(in UserHistory history, int item, string eventType) => PredictFeedback(history, SequentialContext.Home, item, eventType);

    /// <summary>The feedback head's probability in a scenario: the state at the context's token (see
    /// <see cref="TryComputeStateOf(in UserHistory, in SequentialContext, Span{float})"/>).</summary>
    /// <returns>The probability; NaN when the history has no token.</returns>
    public float PredictFeedback(in UserHistory history, in SequentialContext context, int item, string eventType)
    {
        ArgumentNullException.ThrowIfNull(eventType);
        var h = Layout.FeedbackHeadOf(eventType);
        if (h < 0)
        {
            throw new InvalidOperationException($"The model was trained without a '{eventType}' feedback head.");
        }

        ArgumentOutOfRangeException.ThrowIfNegative(item);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(item, ItemCount);
        var d = Width;
        Span<float> state = d <= 256 ? stackalloc float[d] : new float[d];
        if (!TryComputeStateOf(history, context, state))
        {
            return float.NaN;
        }

        return SequentialNetwork.Sigmoid(SequentialNetwork.FeedbackLogit(Layout, EffectiveParameters, state, item, h));
    }

    /// <summary>
    /// Lays out a history (and the context's token) as the network's tokens in <paramref name="tokens"/>, with each
    /// query token's text vector in <paramref name="queryVectors"/> (TextDimension floats per position); the ONNX scorer
    /// and the C# pass read the same layout.
    /// </summary>
    /// <returns>The number of tokens (0: no token).</returns>
    internal int LayOut(in UserHistory history, in SequentialContext context, SequentialTokens tokens, Span<float> queryVectors)
    {
        return LayOut(SourceOf(history), context, history.QueryTexts, tokens, queryVectors);
    }

    /// <summary>Lays out a history given as item spans (no surfaces, queries or anchors; home context).</summary>
    internal int LayOut(ReadOnlySpan<int> items, ReadOnlySpan<byte> types, ReadOnlySpan<long> timestamps, SequentialTokens tokens, Span<float> queryVectors) =>
        LayOut(Source(items, types, timestamps), SequentialContext.Home, null, tokens, queryVectors);

    private int LayOut(TokenSource source, in SequentialContext context, IReadOnlyList<string>? queryTexts, SequentialTokens tokens, Span<float> queryVectors)
    {
        if ((!source.Types.IsEmpty && source.Types.Length != source.Items.Length)
            || (!source.Timestamps.IsEmpty && source.Timestamps.Length != source.Items.Length)
            || (!source.Surfaces.IsEmpty && source.Surfaces.Length != source.Items.Length)
            || (!source.QueryIds.IsEmpty && source.QueryIds.Length != source.Items.Length)
            || (!source.ContextItems.IsEmpty && source.ContextItems.Length != source.Items.Length))
        {
            throw new ArgumentException("Types, timestamps, surfaces, queries and anchors must be empty or as long as the items.", "history");
        }

        // The context's token, when the model reads contexts and this one can be embedded.
        var t = Layout.TextDimension;
        float[]? contextVector = null;
        var hasContext = false;
        if (Options.UseContext)
        {
            if (context.Kind == SequentialContextKind.Anchor)
            {
                if ((uint)context.AnchorItem >= (uint)ItemCount)
                {
                    throw new ArgumentException($"Anchor {context.AnchorItem} is outside the model's {ItemCount} items.", nameof(context));
                }

                hasContext = true;
            }
            else if (context.Kind == SequentialContextKind.Query)
            {
                contextVector = QueryVectorOf(context.QueryText);
                hasContext = contextVector is not null;
            }
        }

        var resolve = queryTexts is null || Layout.QueryProjection < 0
            ? static _ => false
            : (Func<int, bool>)(key => (uint)key < (uint)queryTexts.Count && QueryVectorOf(queryTexts[key]) is not null);
        source = source with { QueryVector = resolve };
        source.LayOut(source.Items.Length, Options.MaxLength - (hasContext ? 1 : 0), tokens);
        if (hasContext)
        {
            var surface = ParameterLayout.SurfaceRow(context.Surface);
            if (context.Kind == SequentialContextKind.Anchor)
            {
                tokens.Add(context.AnchorItem, 0, 0, surface, SequentialTokens.AnchorRole, -1, -1);
            }
            else
            {
                tokens.Add(SequentialTokens.NoItem, 0, 0, surface, SequentialTokens.QueryRole, -1, -1);
            }
        }

        for (var k = 0; k < tokens.Count; k++)
        {
            if (tokens.Ids[k] >= 0)
            {
                continue;
            }

            var vector = tokens.Rows[k] < 0 ? contextVector! : QueryVectorOf(queryTexts![tokens.QueryKeys[k]])!;
            vector.CopyTo(queryVectors.Slice(k * t, t));
        }

        return tokens.Count;
    }

    private TokenSource SourceOf(in UserHistory history) => Source(history.Items.Span, history.Types.Span, history.TimestampsMs.Span) with
    {
        Surfaces = history.Surfaces.Span,
        QueryIds = history.QueryIds.Span,
        ContextItems = history.ContextItems.Span,
    };

    private TokenSource Source(ReadOnlySpan<int> items, ReadOnlySpan<byte> types, ReadOnlySpan<long> timestamps) => new()
    {
        Items = items,
        Types = types,
        Timestamps = timestamps,
        QueryVector = static _ => false,
        ItemCount = ItemCount,
        Queries = Options.UseSearchQueries,
        Context = Options.UseContext,
    };

    // A query's text vector: from training, the cache, or the encoder; null when it cannot be had.
    private float[]? QueryVectorOf(string? query)
    {
        var text = query?.Trim();
        if (string.IsNullOrEmpty(text) || Layout.QueryProjection < 0)
        {
            return null;
        }

        if (_queryCache.TryGetValue(text, out var vector))
        {
            return vector;
        }

        if (QueryEncoder is not { } encoder)
        {
            return null;
        }

        vector = new float[Layout.TextDimension];
        try
        {
            encoder.Encode([text], vector);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return null;
        }

        if (_queryCache.Count >= QueryCacheSize + _trainingQueries)
        {
            _queryCache.Clear();
        }

        _queryCache[text] = vector;
        return vector;
    }

    private bool ComputeState(TokenSource source, in SequentialContext context, IReadOnlyList<string>? queryTexts, Span<float> state)
    {
        if (state.Length < Width)
        {
            throw new ArgumentException($"The state needs {Width} floats.", nameof(state));
        }

        var workspace = _workspaces.TryTake(out var w) ? w : new Workspace(Layout, 0, 0);
        try
        {
            var count = LayOut(source, context, queryTexts, workspace.Tokens, workspace.QueryVectors);
            if (count == 0)
            {
                return false;
            }

            var random = default(SplitMix);
            SequentialNetwork.Forward(Layout, EffectiveParameters, workspace, count, 0f, ref random);
            workspace.State.AsSpan((count - 1) * Width, Width).CopyTo(state);
            return true;
        }
        finally
        {
            _workspaces.Add(workspace);
        }
    }

    /// <summary>
    /// Writes the model as an artifact of kind "sequential", version 5: options (those of version 1, then
    /// <see cref="SequentialOptions.UseActionTypes"/>, <see cref="SequentialOptions.UseTimeGaps"/> and
    /// <see cref="SequentialOptions.OrderHeadWeight"/>), the log's "order" code, <see cref="SequentialOptions.UseContentFeatures"/>,
    /// (new in version 3) the <see cref="SequentialOptions.FeedbackHeads"/> (count, then each head's event type, weight and
    /// log code), then (with content features: the content tables' sizes, the price-decile edges and each item's category, brand and price rows),
    /// (new in version 5) the surface, text-vector, search-query and context flags, the text dimension, the log's surface
    /// names and (with text vectors) the item text vectors, then item counts and weights (version 4: with the feedback
    /// heads' state terms at their end; version 5: the surface, role and text-projection tensors after them). The query
    /// encoder is not saved: attach it after loading (<see cref="AttachQueryEncoder"/>).
    /// </summary>
    public void Save(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var writer = new ArtifactWriter(stream, ArtifactKind, ArtifactVersion, ItemCount);
        var o = Options;
        writer.Write(o.Layers);
        writer.Write(o.Heads);
        writer.Write(o.Width);
        writer.Write(o.FeedForwardWidth);
        writer.Write(o.MaxLength);
        writer.Write(o.Dropout);
        writer.Write(o.LearningRate);
        writer.Write(o.WeightDecay);
        writer.Write(o.WarmupSteps);
        writer.Write(o.GradientClip);
        writer.Write(o.Epochs);
        writer.Write(o.BatchSize);
        writer.Write(o.Negatives);
        writer.Write((int)o.Sampling);
        writer.Write(o.FullSoftmax);
        writer.Write(o.Seed);
        writer.Write(o.Patience);
        writer.Write(o.ValidateEvery);
        writer.Write(o.ValidationUsers ?? -1);
        writer.Write(o.Shards);
        writer.Write(o.MaxDegreeOfParallelism);
        writer.Write(o.UseActionTypes);
        writer.Write(o.UseTimeGaps);
        writer.Write(o.OrderHeadWeight);
        writer.Write(OrderCode);
        writer.Write(o.UseContentFeatures);
        var extra = FeedbackCodes.Length - o.FeedbackHeads.Count;
        writer.Write(o.FeedbackHeads.Count);
        for (var h = 0; h < o.FeedbackHeads.Count; h++)
        {
            writer.Write(o.FeedbackHeads[h].EventType);
            writer.Write(o.FeedbackHeads[h].Weight);
            writer.Write(FeedbackCodes[extra + h]);
        }

        if (Content is { } content)
        {
            writer.Write(content.CategoryRows);
            writer.Write(content.BrandRows);
            writer.WriteArray<float>(content.PriceEdges);
            writer.WriteArray<int>(content.Category);
            writer.WriteArray<int>(content.Brand);
            writer.WriteArray<int>(content.Price);
        }

        // Version 5: the surface, text, query and context inputs.
        writer.Write(o.UseSurfaces);
        writer.Write(o.UseTextVectors);
        writer.Write(o.UseSearchQueries);
        writer.Write(o.UseContext);
        writer.Write(Layout.TextDimension);
        writer.Write(SurfaceNames.Count);
        foreach (var name in SurfaceNames)
        {
            writer.Write(name);
        }

        if (TextVectors is { } vectors)
        {
            writer.WriteArray<float>(vectors);
        }

        writer.WriteArray<int>(_itemCounts);
        writer.WriteArray<float>(ParameterArray);
    }

    /// <summary>Reads a model written by <see cref="Save"/>: artifact version 5, version 4 (written before the surface,
    /// text, query and context inputs), version 3 (written before the feedback
    /// heads' state terms, which then load as zero, so that the heads predict as before), version 2 (written before the
    /// feedback heads beyond P(order)), or version 1 (plain models, written before the optional inputs existed).</summary>
    /// <exception cref="InvalidDataException">Not a "sequential" version 1 to 5 artifact, truncated, or inconsistent.</exception>
    public static SequentialModel Load(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanSeek)
        {
            var copy = new MemoryStream();
            stream.CopyTo(copy);
            copy.Position = 0;
            stream = copy;
        }

        var version = PeekVersion(stream) is var peeked and (1 or 2 or 3 or 4) ? peeked : ArtifactVersion;
        using var reader = new ArtifactReader(stream, ArtifactKind, version);
        var itemCount = reader.ItemCount;
        var options = new SequentialOptions
        {
            Layers = reader.ReadInt32(),
            Heads = reader.ReadInt32(),
            Width = reader.ReadInt32(),
            FeedForwardWidth = reader.ReadInt32(),
            MaxLength = reader.ReadInt32(),
            Dropout = reader.ReadSingle(),
            LearningRate = reader.ReadSingle(),
            WeightDecay = reader.ReadSingle(),
            WarmupSteps = reader.ReadInt32(),
            GradientClip = reader.ReadSingle(),
            Epochs = reader.ReadInt32(),
            BatchSize = reader.ReadInt32(),
            Negatives = reader.ReadInt32(),
            Sampling = (NegativeSampling)reader.ReadInt32(),
            FullSoftmax = reader.ReadBoolean(),
            Seed = reader.ReadInt32(),
            Patience = reader.ReadInt32(),
            ValidateEvery = reader.ReadInt32(),
            ValidationUsers = reader.ReadInt32() is var users and >= 0 ? users : null,
            Shards = reader.ReadInt32(),
            MaxDegreeOfParallelism = reader.ReadInt32(),
        };
        var orderCode = -1;
        if (version >= 2)
        {
            options = options with
            {
                UseActionTypes = reader.ReadBoolean(),
                UseTimeGaps = reader.ReadBoolean(),
                OrderHeadWeight = reader.ReadSingle(),
            };
            orderCode = reader.ReadInt32();
            options = options with { UseContentFeatures = reader.ReadBoolean() };
        }

        var feedbackCodes = new List<int>();
        if (options.OrderHeadWeight > 0)
        {
            feedbackCodes.Add(orderCode);
        }

        if (version >= 3)
        {
            var count = reader.ReadInt32();
            if (count is < 0 or > 255)
            {
                throw new InvalidDataException("The sequential artifact's feedback-head count is out of range.");
            }

            var heads = new FeedbackHead[count];
            for (var h = 0; h < count; h++)
            {
                heads[h] = new FeedbackHead(reader.ReadString(), reader.ReadSingle());
                feedbackCodes.Add(reader.ReadInt32());
            }

            options = options with { FeedbackHeads = heads };
        }

        ItemContent? content = null;
        if (options.UseContentFeatures)
        {
            content = new ItemContent(
                reader.ReadInt32(), reader.ReadInt32(), reader.ReadArray<float>(), reader.ReadArray<int>(), reader.ReadArray<int>(), reader.ReadArray<int>());
            if (!content.IsConsistent(itemCount))
            {
                throw new InvalidDataException("The sequential artifact's content rows do not match its item count.");
            }
        }

        var text = ModelText.None;
        if (version >= 5)
        {
            options = options with
            {
                UseSurfaces = reader.ReadBoolean(),
                UseTextVectors = reader.ReadBoolean(),
                UseSearchQueries = reader.ReadBoolean(),
                UseContext = reader.ReadBoolean(),
            };
            var dimension = reader.ReadInt32();
            var surfaceCount = reader.ReadInt32();
            if (dimension is < 0 or > 4096 || surfaceCount is < 0 or > InteractionLogBuilder.MaxSurfaces
                || ((options.UseTextVectors || options.UseSearchQueries) && dimension == 0))
            {
                throw new InvalidDataException("The sequential artifact's text dimension or surface count is out of range.");
            }

            var names = new string[surfaceCount];
            for (var k = 0; k < names.Length; k++)
            {
                names[k] = reader.ReadString();
            }

            var vectors = options.UseTextVectors ? reader.ReadArray<float>() : null;
            if (vectors is not null && vectors.Length != itemCount * dimension)
            {
                throw new InvalidDataException("The sequential artifact's text vectors do not match its item count.");
            }

            text = new ModelText(dimension, vectors, names, null);
        }

        try
        {
            options.Validate();
        }
        catch (ArgumentOutOfRangeException e)
        {
            throw new InvalidDataException("The sequential artifact holds invalid options.", e);
        }

        var counts = reader.ReadArray<int>();
        var parameters = reader.ReadArray<float>();
        var layout = new ParameterLayout(itemCount, options, content, text.Dimension);
        var stored = version >= 4 ? layout.Total : layout.Total - layout.FeedbackStateLength;
        if (counts.Length != itemCount || parameters.Length != stored)
        {
            throw new InvalidDataException("The sequential artifact's arrays do not match its item count and options.");
        }

        if (stored != layout.Total)
        {
            // Before version 4 the heads had no state terms: they come last in the layout and load as zero.
            Array.Resize(ref parameters, layout.Total);
        }

        return new SequentialModel(options, itemCount, parameters, counts, orderCode, [.. feedbackCodes], content, text);
    }

    /// <summary>A model with fresh weights and no training, for gradient checks.</summary>
    internal static (SequentialModel Model, SequentialTrainer Trainer) CreateUntrained(InteractionLog train, SequentialOptions options, SequentialText? text = null)
    {
        options.Validate();
        return Create(train, options, text, CancellationToken.None);
    }

    private static (SequentialModel Model, SequentialTrainer Trainer) Create(
        InteractionLog train, SequentialOptions options, SequentialText? text, CancellationToken cancellationToken)
    {
        if (options.UseTextVectors && (text?.ItemVectors is null || text.ItemVectors.Length != train.ItemCount * text.Dimension))
        {
            throw new ArgumentException("UseTextVectors needs one text vector per item of the log.", nameof(text));
        }

        if (options.UseSearchQueries && text?.Encoder is null)
        {
            throw new ArgumentException("UseSearchQueries needs a query encoder.", nameof(text));
        }

        var counts = new int[train.ItemCount];
        foreach (var item in train.Item)
        {
            if (item >= 0)
            {
                counts[item]++;
            }
        }

        var content = options.UseContentFeatures ? ItemContent.From(train) : null;
        var readsQueries = options.UseSearchQueries || (options.UseContext && text?.Encoder is not null);
        var dimension = options.UseTextVectors || readsQueries ? text!.Dimension : 0;
        var modelText = new ModelText(dimension, options.UseTextVectors ? text!.ItemVectors : null, [.. train.Surfaces], readsQueries ? text!.Encoder : null);
        var layout = new ParameterLayout(train.ItemCount, options, content, dimension);
        var parameters = new float[layout.Total];
        layout.Initialise(parameters, SplitMix.Mix(options.Seed, 0, 0));
        var model = new SequentialModel(options, train.ItemCount, parameters, counts, OrderCodeOf(train), FeedbackCodesOf(train, options), content, modelText);
        float[]? queryVectors = null;
        if (readsQueries && train.Queries.Count > 0)
        {
            // Every query of the log once, kept for the validation passes and for serving until the cache turns over.
            queryVectors = new float[train.Queries.Count * dimension];
            text!.Encoder!.Encode(train.Queries, queryVectors, cancellationToken);
            for (var k = 0; k < train.Queries.Count; k++)
            {
                model._queryCache[train.Queries[k]] = queryVectors.AsSpan(k * dimension, dimension).ToArray();
            }

            model._trainingQueries = train.Queries.Count;
        }

        return (model, new SequentialTrainer(model, train, counts, cancellationToken, queryVectors));
    }

    /// <summary>The format version in an artifact's header, leaving the stream where it was; -1 when the header can't
    /// be read (the <see cref="ArtifactReader"/> then reports why).</summary>
    private static int PeekVersion(Stream stream)
    {
        var start = stream.Position;
        try
        {
            using var peek = new BinaryReader(stream, System.Text.Encoding.UTF8, leaveOpen: true);
            _ = peek.ReadUInt32();
            _ = peek.ReadString();
            return peek.ReadInt32();
        }
        catch (Exception e) when (e is EndOfStreamException or FormatException or IOException)
        {
            return -1;
        }
        finally
        {
            stream.Position = start;
        }
    }

    // Items with a training event; with content features also the items the catalogue describes.
    internal bool IsScored(int item) => _itemCounts[item] > 0 || (Content?.Describes(item) ?? false) || _hasText[item];

    private static int[] FeedbackCodesOf(InteractionLog log, SequentialOptions options) =>
        [.. options.AllFeedbackHeads.Select(head => log.EventTypes.TryGetCode(head.EventType, out var code) ? code : -1)];

    private static int OrderCodeOf(InteractionLog log) => log.EventTypes.TryGetCode(EventTypeRegistry.Order, out var code) ? code : -1;
}

/// <summary>The text-side state of a model: the text dimension, item vectors, the log's surface names, the query encoder.</summary>
internal sealed record ModelText(int Dimension, float[]? ItemVectors, IReadOnlyList<string> SurfaceNames, ITextEncoder? Encoder)
{
    public static ModelText None { get; } = new(0, null, [], null);
}
