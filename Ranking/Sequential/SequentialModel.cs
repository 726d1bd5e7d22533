using System.Collections.Concurrent;
using System.Numerics.Tensors;
using Ranking.Candidates;
using Ranking.Data;
using Ranking.Domain;
using Ranking.Evaluation;

namespace Ranking.Sequential;

/// <summary>
/// A SASRec-style next-item model: a causal transformer (pre-norm blocks of multi-head self-attention and a GELU
/// feed-forward layer, learned positions) reads the user's most recent items; the output at the last position is
/// the user state, and an item's score is its dot product with the item's embedding (the input table, tied).
/// Forward and backward passes are written by hand on flat float arrays (see <see cref="SequentialNetwork"/>).
/// </summary>
/// <remarks>
/// <para>Training uses every prefix position of each user's last <see cref="SequentialOptions.MaxLength"/> + 1
/// items, sampled softmax (or full softmax), AdamW with warm-up, decay and gradient clipping, and optional early
/// stopping on leave-one-out validation NDCG@10. The same data and options give the same weights bit for bit on any
/// number of threads.</para>
/// <para>Events without an item (searches) are skipped. Items with no training event are never recommended (they
/// score −∞), unless <see cref="SequentialOptions.UseContentFeatures"/> is on and the catalogue describes them. A history without any item gets no answer (<see cref="Score"/> returns false).</para>
/// </remarks>
public sealed class SequentialModel : ICandidateGenerator
{
    private const string ArtifactKind = "sequential";
    private const int ArtifactVersion = 4;

    private readonly int[] _itemCounts;
    private readonly ConcurrentBag<Workspace> _workspaces = [];

    private SequentialModel(
        SequentialOptions options, int itemCount, float[] parameters, int[] itemCounts, int orderCode, int[] feedbackCodes, ItemContent? content = null)
    {
        OrderCode = orderCode;
        Options = options;
        ItemCount = itemCount;
        Content = content;
        Layout = new ParameterLayout(itemCount, options, content);
        if (feedbackCodes.Length != Layout.FeedbackTypes.Length)
        {
            throw new ArgumentException("One event-type code per feedback head is needed.", nameof(feedbackCodes));
        }

        FeedbackCodes = feedbackCodes;
        ParameterArray = parameters;
        _itemCounts = itemCounts;
        EffectiveParameters = content is null ? parameters : new float[parameters.Length];
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

    /// <summary>Recomputes <see cref="EffectiveParameters"/> after <see cref="ParameterArray"/> changed.</summary>
    internal void RefreshEffective()
    {
        if (Content is not { } content)
        {
            return;
        }

        var p = ParameterArray;
        var e = EffectiveParameters;
        p.CopyTo(e, 0);
        var d = Width;
        var layout = Layout;
        for (var i = 0; i < ItemCount; i++)
        {
            var row = e.AsSpan(layout.ItemTable + (i * d), d);
            if (_itemCounts[i] == 0)
            {
                row.Clear();
            }

            TensorPrimitives.Add(row, p.AsSpan(layout.CategoryTable + (content.Category[i] * d), d), row);
            TensorPrimitives.Add(row, p.AsSpan(layout.BrandTable + (content.Brand[i] * d), d), row);
            TensorPrimitives.Add(row, p.AsSpan(layout.PriceTable + (content.Price[i] * d), d), row);
        }
    }

    /// <summary>
    /// Trains a model on a log. With <paramref name="validation"/> (for example
    /// <c>Splits.LeaveOneOut(log, LeaveOneOutStage.Validation)</c> whose <c>Train</c> is <paramref name="train"/>), NDCG@10
    /// is measured every <see cref="SequentialOptions.ValidateEvery"/> epochs and the best weights are kept.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Invalid options.</exception>
    /// <exception cref="ArgumentException">The validation split scores another item space, or no user has two items.</exception>
    public static SequentialModel Train(
        InteractionLog train, SequentialOptions options, EvaluationSplit? validation = null, IProgress<SequentialEpoch>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (validation is not null && validation.Train.ItemCount != train.ItemCount)
        {
            throw new ArgumentException("The validation split must share the training log's item indices.", nameof(validation));
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
        var layout = new ParameterLayout(train.ItemCount, options, content);
        var parameters = new float[layout.Total];
        layout.Initialise(parameters, SplitMix.Mix(options.Seed, 0, 0));
        var model = new SequentialModel(options, train.ItemCount, parameters, counts, OrderCodeOf(train), FeedbackCodesOf(train, options), content);
        var trainer = new SequentialTrainer(model, train, counts, cancellationToken);
        if (trainer.SequenceCount == 0)
        {
            throw new ArgumentException("No user has two items to learn a transition from.", nameof(train));
        }

        trainer.Run(validation, progress, cancellationToken);
        return model;
    }

    /// <inheritdoc/>
    /// <remarks>Reads the last <see cref="SequentialOptions.MaxLength"/> items of the history (searches skipped); the
    /// user index is not used, so unknown users with a history are scored too.</remarks>
    public bool Score(in UserHistory user, Span<float> scores)
    {
        if (scores.Length != ItemCount)
        {
            throw new ArgumentException($"Expected {ItemCount} scores, got {scores.Length}.", nameof(scores));
        }

        var d = Width;
        Span<float> state = d <= 256 ? stackalloc float[d] : new float[d];
        if (!TryComputeStateOf(user, state))
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

    /// <summary>
    /// The user state (length <see cref="Width"/>) after the given items, oldest first; only the last
    /// <see cref="SequentialOptions.MaxLength"/> items with index ≥ 0 count. Cache it: scoring a candidate is then one dot
    /// product with <see cref="ItemEmbeddings"/>.
    /// </summary>
    /// <returns>False when there is no item (negative indices are searches) — then <paramref name="state"/> is untouched.</returns>
    /// <exception cref="ArgumentException"><paramref name="state"/> is shorter than <see cref="Width"/>, or an item is ≥ <see cref="ItemCount"/>.</exception>
    public bool TryComputeState(ReadOnlySpan<int> items, Span<float> state) => ComputeState(items, default, default, state);

    /// <summary>
    /// The user state after a history, as <see cref="TryComputeState"/>, also reading
    /// the event types (with <see cref="SequentialOptions.UseActionTypes"/>; empty types read the "unknown" row) and
    /// times (with <see cref="SequentialOptions.UseTimeGaps"/>).
    /// </summary>
    /// <returns>False when there is no item.</returns>
    public bool TryComputeStateOf(in UserHistory history, Span<float> state) =>
        ComputeState(history.Items.Span, history.Types.Span, history.TimestampsMs.Span, state);

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
    public float PredictFeedback(in UserHistory history, int item, string eventType)
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
        if (!TryComputeStateOf(history, state))
        {
            return float.NaN;
        }

        return SequentialNetwork.Sigmoid(SequentialNetwork.FeedbackLogit(Layout, EffectiveParameters, state, item, h));
    }

    private bool ComputeState(ReadOnlySpan<int> items, ReadOnlySpan<byte> types, ReadOnlySpan<long> timestamps, Span<float> state)
    {
        if (state.Length < Width)
        {
            throw new ArgumentException($"The state needs {Width} floats.", nameof(state));
        }

        var workspace = _workspaces.TryTake(out var w) ? w : new Workspace(Layout, 0, 0);
        try
        {
            // Walk back from the newest item to fill at most MaxLength slots (keeping each one's row in Targets, and the
            // item event before the oldest for its time gap), then lay them out oldest first.
            if ((!types.IsEmpty && types.Length != items.Length) || (!timestamps.IsEmpty && timestamps.Length != items.Length))
            {
                throw new ArgumentException("Types and timestamps must be empty or as long as the items.", nameof(items));
            }

            var count = 0;
            var previous = -1;
            for (var r = items.Length - 1; r >= 0; r--)
            {
                if (items[r] < 0)
                {
                    continue;
                }

                if (count == Options.MaxLength)
                {
                    previous = r;
                    break;
                }

                if (items[r] >= ItemCount)
                {
                    throw new ArgumentException($"Item {items[r]} is outside the model's {ItemCount} items.", nameof(items));
                }

                workspace.Targets[count] = r;
                workspace.Ids[count++] = items[r];
            }

            if (count == 0)
            {
                return false;
            }

            workspace.Ids.AsSpan(0, count).Reverse();
            workspace.Targets.AsSpan(0, count).Reverse();
            for (var t = 0; t < count; t++)
            {
                var r = workspace.Targets[t];
                workspace.Types[t] = types.IsEmpty ? 0 : ParameterLayout.TypeRow(types[r]);
                var before = t > 0 ? workspace.Targets[t - 1] : previous;
                workspace.Gaps[t] = timestamps.IsEmpty || before < 0 ? 0 : ParameterLayout.GapBucket(timestamps[r] - timestamps[before]);
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
    /// Writes the model as an artifact of kind "sequential", version 4: options (those of version 1, then
    /// <see cref="SequentialOptions.UseActionTypes"/>, <see cref="SequentialOptions.UseTimeGaps"/> and
    /// <see cref="SequentialOptions.OrderHeadWeight"/>), the log's "order" code, <see cref="SequentialOptions.UseContentFeatures"/>,
    /// (new in version 3) the <see cref="SequentialOptions.FeedbackHeads"/> (count, then each head's event type, weight and
    /// log code), then (with content features: the content tables' sizes, the price-decile edges and each item's category, brand and price rows),
    /// item counts and weights (version 4: with the feedback heads' state terms at their end; the rest is as in version 3).
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

        writer.WriteArray<int>(_itemCounts);
        writer.WriteArray<float>(ParameterArray);
    }

    /// <summary>Reads a model written by <see cref="Save"/>: artifact version 4, version 3 (written before the feedback
    /// heads' state terms, which then load as zero, so that the heads predict as before), version 2 (written before the
    /// feedback heads beyond P(order)), or version 1 (plain models, written before the optional inputs existed).</summary>
    /// <exception cref="InvalidDataException">Not a "sequential" version 1 to 4 artifact, truncated, or inconsistent.</exception>
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

        var version = PeekVersion(stream) is var peeked and (1 or 2 or 3) ? peeked : ArtifactVersion;
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
        var layout = new ParameterLayout(itemCount, options, content);
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

        return new SequentialModel(options, itemCount, parameters, counts, orderCode, [.. feedbackCodes], content);
    }

    /// <summary>A model with fresh weights and no training, for gradient checks.</summary>
    internal static (SequentialModel Model, SequentialTrainer Trainer) CreateUntrained(InteractionLog train, SequentialOptions options)
    {
        options.Validate();
        var counts = new int[train.ItemCount];
        foreach (var item in train.Item)
        {
            if (item >= 0)
            {
                counts[item]++;
            }
        }

        var content = options.UseContentFeatures ? ItemContent.From(train) : null;
        var layout = new ParameterLayout(train.ItemCount, options, content);
        var parameters = new float[layout.Total];
        layout.Initialise(parameters, SplitMix.Mix(options.Seed, 0, 0));
        var model = new SequentialModel(options, train.ItemCount, parameters, counts, OrderCodeOf(train), FeedbackCodesOf(train, options), content);
        return (model, new SequentialTrainer(model, train, counts, CancellationToken.None));
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
    internal bool IsScored(int item) => _itemCounts[item] > 0 || (Content?.Describes(item) ?? false);

    private static int[] FeedbackCodesOf(InteractionLog log, SequentialOptions options) =>
        [.. options.AllFeedbackHeads.Select(head => log.EventTypes.TryGetCode(head.EventType, out var code) ? code : -1)];

    private static int OrderCodeOf(InteractionLog log) => log.EventTypes.TryGetCode(EventTypeRegistry.Order, out var code) ? code : -1;
}
