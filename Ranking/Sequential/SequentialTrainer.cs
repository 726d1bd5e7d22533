using System.Diagnostics;
using System.Numerics.Tensors;
using Ranking.Data;
using Ranking.Evaluation;

namespace Ranking.Sequential;

/// <summary>A gradient array with the item-table rows it touched, so that clearing and summing skip the rest.</summary>
internal sealed class ShardGradient
{
    private readonly bool[] _touched;
    private readonly int[] _rows;

    public ShardGradient(ParameterLayout layout)
    {
        Layout = layout;
        Values = new float[layout.Total];
        _touched = new bool[layout.Items];
        _rows = new int[layout.Items];
    }

    public ParameterLayout Layout { get; }

    public float[] Values { get; }

    /// <summary>Every item row may be non-zero (full softmax).</summary>
    public bool AllRows { get; private set; }

    public int RowCount { get; private set; }

    public ReadOnlySpan<int> Rows => _rows.AsSpan(0, RowCount);

    public void Touch(int row)
    {
        if (!_touched[row])
        {
            _touched[row] = true;
            _rows[RowCount++] = row;
        }
    }

    public void TouchAll() => AllRows = true;

    public void Clear()
    {
        var d = Layout.Width;
        if (AllRows)
        {
            Values.AsSpan(Layout.ItemTable, Layout.Items * d).Clear();
            Array.Clear(_touched);
        }
        else
        {
            foreach (var row in Rows)
            {
                Values.AsSpan(Layout.ItemTable + (row * d), d).Clear();
                _touched[row] = false;
            }
        }

        Values.AsSpan(Layout.ItemTableEnd).Clear();
        RowCount = 0;
        AllRows = false;
    }

    /// <summary>Adds another shard's gradient into this one.</summary>
    public void Add(ShardGradient other)
    {
        var d = Layout.Width;
        if (other.AllRows)
        {
            var all = Values.AsSpan(Layout.ItemTable, Layout.Items * d);
            TensorPrimitives.Add(all, other.Values.AsSpan(Layout.ItemTable, Layout.Items * d), all);
            TouchAll();
        }
        else
        {
            foreach (var row in other.Rows)
            {
                var target = Values.AsSpan(Layout.ItemTable + (row * d), d);
                TensorPrimitives.Add(target, other.Values.AsSpan(Layout.ItemTable + (row * d), d), target);
                Touch(row);
            }
        }

        var rest = Values.AsSpan(Layout.ItemTableEnd);
        TensorPrimitives.Add(rest, other.Values.AsSpan(Layout.ItemTableEnd), rest);
    }

    /// <summary>Squared L2 norm of the (possibly) non-zero entries, in double.</summary>
    public double SquaredNorm()
    {
        var d = Layout.Width;
        double sum = 0;
        if (AllRows)
        {
            sum += SumSquares(Values.AsSpan(Layout.ItemTable, Layout.Items * d));
        }
        else
        {
            foreach (var row in Rows)
            {
                sum += SumSquares(Values.AsSpan(Layout.ItemTable + (row * d), d));
            }
        }

        return sum + SumSquares(Values.AsSpan(Layout.ItemTableEnd));
    }

    private static double SumSquares(ReadOnlySpan<float> values) => TensorPrimitives.SumOfSquares(values);
}

/// <summary>
/// One training run of <see cref="SequentialModel"/>: the users' sequences, a workspace and gradient per shard, the
/// AdamW moments. Each batch is split into fixed shards (sequence b to shard b mod S) that run in parallel; shard
/// gradients are added in shard order, so a seed gives the same weights on any number of threads.
/// </summary>
internal sealed class SequentialTrainer
{
    private const float Beta1 = 0.9f;
    private const float Beta2 = 0.98f;
    private const float AdamEpsilon = 1e-8f;
    private const int UpdateChunk = 16_384;

    private readonly SequentialModel _model;
    private readonly SequentialOptions _options;
    private readonly ParameterLayout _layout;
    private readonly TrainingSequences _sequences;
    private readonly int[] _offsets;
    private readonly float[] _queryVectors;
    private readonly int[] _feedbackCodes;
    private readonly float[] _feedbackWeights;
    private readonly int[] _itemCounts;
    private readonly int[] _sampleItems;
    private readonly float[] _logQ;
    private readonly Workspace[] _workspaces;
    private readonly ShardGradient[] _shards;
    private readonly float[] _m;
    private readonly float[] _v;
    private readonly float[] _tableTransposed;
    private readonly double[] _shardLoss;
    private readonly (int Start, int Length, bool Decay)[] _chunks;
    private readonly float[][] _chunkScratch;
    private readonly ParallelOptions _parallel;
    private int _step;

    public SequentialTrainer(SequentialModel model, InteractionLog train, int[] itemCounts, CancellationToken cancellationToken, float[]? queryVectors = null)
    {
        _model = model;
        _options = model.Options;
        _layout = model.Layout;
        _parallel = new ParallelOptions { MaxDegreeOfParallelism = _options.MaxDegreeOfParallelism, CancellationToken = cancellationToken };
        _queryVectors = queryVectors ?? [];
        _sequences = BuildSequences(train, model, _queryVectors);
        _offsets = _sequences.Offsets;
        _feedbackCodes = model.FeedbackCodes;
        _feedbackWeights = [.. _options.AllFeedbackHeads.Select(head => head.Weight)];
        _itemCounts = itemCounts;
        for (var h = 0; h < _feedbackCodes.Length; h++)
        {
            // Each feedback head starts at its base rate, so that its weights are not spent on it first.
            model.ParameterArray[_layout.FeedbackBiases[h]] = BaseRateLogit(_sequences.TargetTypes, _feedbackCodes[h]);
        }

        // Uniform: every item seen in training once. Popularity: one entry per training event, so a draw has
        // probability count_i / events, and log Q enters the logits.
        var sampleCount = 0L;
        for (var i = 0; i < itemCounts.Length; i++)
        {
            sampleCount += _options.Sampling == NegativeSampling.Uniform ? (itemCounts[i] > 0 ? 1 : 0) : itemCounts[i];
        }

        _sampleItems = new int[checked((int)Math.Max(1, sampleCount))];
        var k = 0;
        for (var i = 0; i < itemCounts.Length; i++)
        {
            var copies = _options.Sampling == NegativeSampling.Uniform ? (itemCounts[i] > 0 ? 1 : 0) : itemCounts[i];
            for (var c = 0; c < copies; c++)
            {
                _sampleItems[k++] = i;
            }
        }

        if (_options.Sampling == NegativeSampling.Popularity && !_options.FullSoftmax)
        {
            _logQ = new float[itemCounts.Length];
            for (var i = 0; i < itemCounts.Length; i++)
            {
                _logQ[i] = itemCounts[i] > 0 ? MathF.Log(itemCounts[i] / (float)sampleCount) : 0f;
            }
        }
        else
        {
            _logQ = [];
        }

        var negatives = _options.FullSoftmax ? 0 : _options.Negatives;
        var columns = _options.FullSoftmax ? _layout.Items : negatives;
        _workspaces = new Workspace[_options.Shards];
        _shards = new ShardGradient[_options.Shards];
        for (var s = 0; s < _options.Shards; s++)
        {
            _workspaces[s] = new Workspace(_layout, columns, negatives);
            _shards[s] = new ShardGradient(_layout);
        }

        _m = new float[_layout.Total];
        _v = new float[_layout.Total];
        _tableTransposed = _options.FullSoftmax ? new float[_layout.Items * _layout.Width] : [];
        _shardLoss = new double[_options.Shards];
        var chunks = new List<(int, int, bool)>();
        foreach (var (offset, length, decay) in _layout.Ranges)
        {
            for (var start = 0; start < length; start += UpdateChunk)
            {
                chunks.Add((offset + start, Math.Min(UpdateChunk, length - start), decay));
            }
        }

        _chunks = [.. chunks];
        _chunkScratch = new float[_chunks.Length][];
    }

    public int SequenceCount => _offsets.Length - 1;

    public int StepsPerEpoch => (SequenceCount + _options.BatchSize - 1) / _options.BatchSize;

    /// <summary>The summed gradient of the last <see cref="ComputeGradient"/>.</summary>
    public ShardGradient Gradient => _shards[0];

    /// <summary>Trains for the configured epochs, validating and stopping early when a split is given.</summary>
    public void Run(EvaluationSplit? validation, IProgress<SequentialEpoch>? progress, CancellationToken cancellationToken)
    {
        var order = new int[SequenceCount];
        var totalSteps = (long)StepsPerEpoch * _options.Epochs;
        float[]? best = null;
        var bestNdcg = double.NegativeInfinity;
        var stale = 0;
        for (var epoch = 1; epoch <= _options.Epochs; epoch++)
        {
            var clock = Stopwatch.StartNew();
            for (var i = 0; i < order.Length; i++)
            {
                order[i] = i;
            }

            var shuffle = new SplitMix(SplitMix.Mix(_options.Seed, epoch, -1));
            for (var i = order.Length - 1; i > 0; i--)
            {
                var j = shuffle.Next(i + 1);
                (order[i], order[j]) = (order[j], order[i]);
            }

            double loss = 0;
            long positions = 0;
            for (var start = 0; start < order.Length; start += _options.BatchSize)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var (batchLoss, batchPositions) = ComputeGradient(order, start, Math.Min(_options.BatchSize, order.Length - start), epoch, _options.Dropout);
                loss += batchLoss;
                positions += batchPositions;
                Update(LearningRate(_step, totalSteps));
                _model.RefreshEffective();
                _step++;
            }

            var seconds = clock.Elapsed.TotalSeconds;
            double? ndcg = null;
            var stop = false;
            if (validation is not null && (epoch % _options.ValidateEvery == 0 || epoch == _options.Epochs))
            {
                var result = RankingEvaluator.Evaluate(
                    _model, validation,
                    new EvaluationOptions { Ks = [10], BootstrapResamples = 0, MaxUsers = _options.ValidationUsers, Seed = _options.Seed, MaxDegreeOfParallelism = _options.MaxDegreeOfParallelism },
                    cancellationToken: cancellationToken);
                ndcg = result.Metrics["ndcg@10"].Mean;
                if (ndcg > bestNdcg)
                {
                    bestNdcg = ndcg.Value;
                    best ??= new float[_layout.Total];
                    _model.ParameterArray.CopyTo(best, 0);
                    _model.BestEpoch = epoch;
                    stale = 0;
                }
                else
                {
                    stale++;
                    stop = stale >= _options.Patience;
                }
            }

            _model.EpochsRun = epoch;
            progress?.Report(new SequentialEpoch(epoch, positions == 0 ? 0 : loss / positions, seconds, positions, ndcg));
            if (stop)
            {
                break;
            }
        }

        if (best is not null)
        {
            best.CopyTo(_model.ParameterArray, 0);
            _model.RefreshEffective();
        }
    }

    /// <summary>
    /// Forward and backward over the given sequences, the loss averaged over their target positions; the summed
    /// gradient is left in <see cref="Gradient"/>. Returns the summed (unaveraged) loss and the number of positions.
    /// </summary>
    public (double Loss, long Positions) ComputeGradient(int[] order, int start, int count, int epoch, float dropout)
    {
        long positions = 0;
        for (var b = start; b < start + count; b++)
        {
            positions += _offsets[order[b] + 1] - _offsets[order[b]] - 1;
        }

        var weight = positions == 0 ? 0f : 1f / positions;
        _model.RefreshEffective();
        var parameters = _model.EffectiveParameters;
        if (_options.FullSoftmax)
        {
            TransposeTable(parameters);
        }

        Parallel.For(0, _shards.Length, _parallel, shard =>
        {
            var gradient = _shards[shard];
            var w = _workspaces[shard];
            gradient.Clear();
            double loss = 0;
            for (var b = shard; b < count; b += _shards.Length)
            {
                loss += TrainSequence(order[start + b], epoch, dropout, weight, w, gradient);
            }

            _shardLoss[shard] = loss;
        });

        double total = 0;
        for (var s = 0; s < _shards.Length; s++)
        {
            total += _shardLoss[s];
            if (s > 0)
            {
                _shards[0].Add(_shards[s]);
            }
        }

        ScatterContent(_shards[0]);
        return (total, positions);
    }

    private double TrainSequence(int sequence, int epoch, float dropout, float weight, Workspace w, ShardGradient gradient)
    {
        var start = _offsets[sequence];
        var rows = _offsets[sequence + 1] - start - 1;
        var targets = start - sequence;
        var q = _sequences;
        var tokens = w.Tokens;
        q.Ids.AsSpan(start, rows).CopyTo(tokens.Ids);
        q.Types.AsSpan(start, rows).CopyTo(tokens.Types);
        q.Gaps.AsSpan(start, rows).CopyTo(tokens.Gaps);
        q.Surfaces.AsSpan(start, rows).CopyTo(tokens.Surfaces);
        q.Roles.AsSpan(start, rows).CopyTo(tokens.Roles);
        q.Targets.AsSpan(targets, rows).CopyTo(w.Targets);
        var textDimension = _layout.TextDimension;
        for (var t = 0; t < rows; t++)
        {
            if (tokens.Ids[t] < 0)
            {
                _queryVectors.AsSpan(q.QueryKeys[start + t] * textDimension, textDimension).CopyTo(w.QueryVectors.AsSpan(t * textDimension, textDimension));
            }

            for (var h = 0; h < _feedbackCodes.Length; h++)
            {
                w.FeedbackLabels[h][t] = q.TargetTypes[targets + t] == _feedbackCodes[h] ? 1f : 0f;
            }
        }

        var random = new SplitMix(SplitMix.Mix(_options.Seed, epoch, sequence));
        var parameters = _model.EffectiveParameters;
        var g = gradient.Values;
        SequentialNetwork.Forward(_layout, parameters, w, rows, dropout, ref random);
        double loss;
        if (_options.FullSoftmax)
        {
            loss = SequentialNetwork.FullLoss(_layout, parameters, _tableTransposed, w, rows, weight, g);
            gradient.TouchAll();
        }
        else
        {
            var n = _options.Negatives;
            for (var j = 0; j < n; j++)
            {
                var item = _sampleItems[random.Next(_sampleItems.Length)];
                w.NegativeIds[j] = item;
                w.NegativeLogQ[j] = _logQ.Length == 0 ? 0f : _logQ[item];
                gradient.Touch(item);
            }

            loss = SequentialNetwork.SampledLoss(_layout, parameters, w, rows, n, _logQ, weight, g);
            for (var t = 0; t < rows; t++)
            {
                gradient.Touch(w.Targets[t]);
            }
        }

        for (var h = 0; h < _feedbackCodes.Length; h++)
        {
            loss += SequentialNetwork.FeedbackLoss(_layout, parameters, w, rows, h, _feedbackWeights[h], weight, g);
        }

        SequentialNetwork.Backward(_layout, parameters, w, rows, g);
        for (var t = 0; t < rows; t++)
        {
            if (w.Ids[t] >= 0)
            {
                gradient.Touch(w.Ids[t]);
            }
        }

        return loss;
    }

    // With content features the network's item rows are id + category + brand + price rows: the gradient of each item
    // row also goes to its content rows; items with no training event have no id row (their gradient is dropped).
    private void ScatterContent(ShardGradient gradient)
    {
        var content = _model.Content;
        var text = _model.TextVectors;
        if (content is null && text is null)
        {
            return;
        }

        var d = _layout.Width;
        var g = gradient.Values;
        var t = _layout.TextDimension;

        void Visit(int i)
        {
            var row = g.AsSpan(_layout.ItemTable + (i * d), d);
            if (content is not null)
            {
                var category = g.AsSpan(_layout.CategoryTable + (content.Category[i] * d), d);
                var brand = g.AsSpan(_layout.BrandTable + (content.Brand[i] * d), d);
                var price = g.AsSpan(_layout.PriceTable + (content.Price[i] * d), d);
                TensorPrimitives.Add(category, row, category);
                TensorPrimitives.Add(brand, row, brand);
                TensorPrimitives.Add(price, row, price);
            }

            if (text is not null)
            {
                // The row is id + … + text_i · W: dW[j, :] += text_ij · dRow.
                var vector = text.AsSpan(i * t, t);
                for (var j = 0; j < t; j++)
                {
                    if (vector[j] != 0)
                    {
                        var target = g.AsSpan(_layout.TextProjection + (j * d), d);
                        TensorPrimitives.MultiplyAdd(row, vector[j], target, target);
                    }
                }
            }

            if (_itemCounts[i] == 0)
            {
                row.Clear();
            }
        }

        if (gradient.AllRows)
        {
            for (var i = 0; i < _layout.Items; i++)
            {
                Visit(i);
            }
        }
        else
        {
            foreach (var i in gradient.Rows)
            {
                Visit(i);
            }
        }
    }

    private void TransposeTable(float[] parameters)
    {
        var d = _layout.Width;
        var items = _layout.Items;
        Parallel.For(0, d, _parallel, c =>
        {
            var row = _tableTransposed.AsSpan(c * items, items);
            for (var i = 0; i < items; i++)
            {
                row[i] = parameters[_layout.ItemTable + (i * d) + c];
            }
        });
    }

    private float LearningRate(long step, long totalSteps)
    {
        var peak = _options.LearningRate;
        var warmup = _options.WarmupSteps;
        if (step < warmup)
        {
            return peak * (step + 1) / warmup;
        }

        var span = Math.Max(1, totalSteps - warmup);
        var progress = Math.Min(1.0, (double)(step - warmup) / span);
        return (float)(peak * (1 - (0.9 * progress)));
    }

    // AdamW (Loshchilov and Hutter): moments of the clipped gradient, bias-corrected; decay applied to the weight
    // directly. Every parameter is updated every step (rows without gradient still move with their momentum), as
    // torch.optim.AdamW does.
    private void Update(float learningRate)
    {
        var gradient = _shards[0];
        var clip = 1f;
        if (_options.GradientClip > 0)
        {
            var norm = Math.Sqrt(gradient.SquaredNorm());
            if (norm > _options.GradientClip)
            {
                clip = (float)(_options.GradientClip / norm);
            }
        }

        var t = _step + 1;
        var correction1 = 1f - MathF.Pow(Beta1, t);
        var correction2 = 1f - MathF.Pow(Beta2, t);
        var stepSize = learningRate / correction1;
        var rootCorrection2 = 1f / MathF.Sqrt(correction2);
        var decay = 1f - (learningRate * _options.WeightDecay);
        var parameters = _model.ParameterArray;
        var g = gradient.Values;
        Parallel.For(0, _chunks.Length, _parallel, c =>
        {
            var (start, length, decays) = _chunks[c];
            var scratch = _chunkScratch[c] ??= new float[UpdateChunk];
            var s = scratch.AsSpan(0, length);
            var grad = g.AsSpan(start, length);
            var m = _m.AsSpan(start, length);
            var v = _v.AsSpan(start, length);
            var p = parameters.AsSpan(start, length);
            if (clip != 1f)
            {
                TensorPrimitives.Multiply(grad, clip, grad);
            }

            TensorPrimitives.Multiply(m, Beta1, m);
            TensorPrimitives.MultiplyAdd(grad, 1f - Beta1, m, m);
            TensorPrimitives.Multiply(grad, grad, s);
            TensorPrimitives.Multiply(v, Beta2, v);
            TensorPrimitives.MultiplyAdd(s, 1f - Beta2, v, v);
            TensorPrimitives.Sqrt(v, s);
            TensorPrimitives.Multiply(s, rootCorrection2, s);
            TensorPrimitives.Add(s, AdamEpsilon, s);
            TensorPrimitives.Divide(m, s, s);
            if (decays && _options.WeightDecay > 0)
            {
                TensorPrimitives.Multiply(p, decay, p);
            }

            TensorPrimitives.MultiplyAdd(s, -stepSize, p, p);
        });
    }

    // Log-odds of "the target event has this type code" over the training positions, clamped to ±8.
    private static float BaseRateLogit(byte[] targetTypes, int code)
    {
        long positives = 0;
        foreach (var type in targetTypes)
        {
            positives += type == code ? 1 : 0;
        }

        var rate = (positives + 0.5) / (targetTypes.Length + 1.0);
        return (float)Math.Clamp(Math.Log(rate / (1 - rate)), -8, 8);
    }

    // One sequence per user whose tokens hold at least two items: her last MaxLength + 1 tokens up to her last item
    // event (searches skipped unless they are tokens, see SequentialTokens), so each position predicts the next item
    // event; with that event's type for the feedback heads.
    private static TrainingSequences BuildSequences(InteractionLog train, SequentialModel model, float[] queryVectors)
    {
        var options = model.Options;
        var textDimension = model.Layout.TextDimension;
        var hasQuery = new bool[textDimension > 0 ? queryVectors.Length / textDimension : 0];
        for (var k = 0; k < hasQuery.Length; k++)
        {
            hasQuery[k] = TensorPrimitives.SumOfSquares(queryVectors.AsSpan(k * textDimension, textDimension)) > 0;
        }

        Func<int, bool> queryVector = key => (uint)key < (uint)hasQuery.Length && hasQuery[key];
        var q = new TrainingSequences();
        var tokens = new SequentialTokens(options.MaxLength + 1);
        for (var u = 0; u < train.UserCount; u++)
        {
            var (first, length) = train.RowsOf(u).GetOffsetAndLength(train.Count);
            var end = length;
            while (end > 0 && train.Item[first + end - 1] < 0)
            {
                end--;
            }

            var source = new TokenSource
            {
                Items = train.Item.AsSpan(first, length),
                Types = train.Type.AsSpan(first, length),
                Timestamps = train.TimestampMs.AsSpan(first, length),
                Surfaces = train.Surface.AsSpan(first, length),
                QueryIds = train.Query.AsSpan(first, length),
                ContextItems = train.ContextItem.AsSpan(first, length),
                QueryVector = queryVector,
                ItemCount = model.ItemCount,
                Queries = options.UseSearchQueries,
                Context = options.UseContext,
            };
            source.LayOut(end, options.MaxLength + 1, tokens);
            var n = tokens.Count;
            if (n < 2)
            {
                continue;
            }

            var nextTarget = -1;
            var nextType = (byte)0;
            var targets = new int[n - 1];
            var types = new byte[n - 1];
            for (var k = n - 1; k >= 1; k--)
            {
                if (tokens.Ids[k] >= 0 && tokens.Roles[k] == SequentialTokens.EventRole)
                {
                    nextTarget = tokens.Ids[k];
                    nextType = train.Type[first + tokens.Rows[k]];
                }

                targets[k - 1] = nextTarget;
                types[k - 1] = nextType;
            }

            q.Add(tokens, targets, types);
        }

        return q.Build();
    }
}

/// <summary>The training tokens of every sequence, concatenated; sequence s owns tokens [Offsets[s], Offsets[s + 1]) and
/// the targets of its positions from Offsets[s] − s on (one fewer than tokens: the last token is only a target).</summary>
internal sealed class TrainingSequences
{
    private readonly List<int> _ids = [];
    private readonly List<int> _types = [];
    private readonly List<int> _gaps = [];
    private readonly List<int> _surfaces = [];
    private readonly List<int> _roles = [];
    private readonly List<int> _queryKeys = [];
    private readonly List<int> _targets = [];
    private readonly List<byte> _targetTypes = [];
    private readonly List<int> _offsets = [0];

    public int[] Ids { get; private set; } = [];

    public int[] Types { get; private set; } = [];

    public int[] Gaps { get; private set; } = [];

    public int[] Surfaces { get; private set; } = [];

    public int[] Roles { get; private set; } = [];

    public int[] QueryKeys { get; private set; } = [];

    /// <summary>Per position: the next item event's item.</summary>
    public int[] Targets { get; private set; } = [];

    /// <summary>Per position: the next item event's type code.</summary>
    public byte[] TargetTypes { get; private set; } = [];

    public int[] Offsets { get; private set; } = [];

    public void Add(SequentialTokens tokens, int[] targets, byte[] targetTypes)
    {
        var n = tokens.Count;
        _ids.AddRange(tokens.Ids.AsSpan(0, n));
        _types.AddRange(tokens.Types.AsSpan(0, n));
        _gaps.AddRange(tokens.Gaps.AsSpan(0, n));
        _surfaces.AddRange(tokens.Surfaces.AsSpan(0, n));
        _roles.AddRange(tokens.Roles.AsSpan(0, n));
        _queryKeys.AddRange(tokens.QueryKeys.AsSpan(0, n));
        _targets.AddRange(targets);
        _targetTypes.AddRange(targetTypes);
        _offsets.Add(_ids.Count);
    }

    public TrainingSequences Build()
    {
        Ids = [.. _ids];
        Types = [.. _types];
        Gaps = [.. _gaps];
        Surfaces = [.. _surfaces];
        Roles = [.. _roles];
        QueryKeys = [.. _queryKeys];
        Targets = [.. _targets];
        TargetTypes = [.. _targetTypes];
        Offsets = [.. _offsets];
        return this;
    }
}
