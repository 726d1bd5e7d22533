using System.Collections.Concurrent;
using System.Numerics.Tensors;
using Microsoft.ML.OnnxRuntime;
using Ranking.Candidates;

namespace Ranking.Sequential;

/// <summary>
/// Serves a trained <see cref="SequentialModel"/> through ONNX Runtime: the graph of <see cref="SequentialOnnxExporter"/>
/// in one <see cref="InferenceSession"/> per model (thread-safe), input and output buffers pooled per call, histories
/// batched up to <see cref="OnnxScorerOptions.MaxBatchSize"/> rows per run. Same answers as the C# forward pass (to
/// float rounding, about 1e-6).
/// </summary>
/// <remarks>
/// <para>CPU execution provider by default. With <see cref="OnnxScorerOptions.UseCuda"/> the CUDA provider is asked
/// for; when it cannot be created (this build ships the CPU ONNX Runtime, whose native library has no CUDA entry
/// point; or the CUDA libraries or device are missing) one line goes to the log callback and the scorer runs on CPU.
/// <see cref="ExecutionProvider"/> says which one serves.</para>
/// <para>Histories are read like <see cref="SequentialModel.TryComputeStateOf(in UserHistory, Span{float})"/>: searches (negative items) skipped,
/// the last MaxLength items kept, an item ≥ <see cref="ItemCount"/> rejected; a history with no item has no answer.
/// The graph gets one int64 [rows, MaxLength] tensor per input of <see cref="SequentialOnnxExporter"/>, right-aligned
/// and left-padded: <see cref="SequentialOnnxExporter.ItemsInput"/> (item indices, padding −1); with action types
/// <see cref="SequentialOnnxExporter.TypesInput"/> (each item event's type row from <see cref="UserHistory.Types"/>,
/// row 0 when the history has no types; 0 on padding); with time gaps <see cref="SequentialOnnxExporter.GapsInput"/>
/// (the bucket of the time since the previous item event, from <see cref="UserHistory.TimestampsMs"/>; for the oldest
/// kept item, since the item event before it; 0 when there is none, and on padding). The methods taking item spans
/// (<see cref="TryComputeState"/>, the span overloads of <see cref="ComputeStates(ReadOnlySpan{int}, ReadOnlySpan{int}, Span{float}, Span{bool})"/>
/// and <see cref="ScoreBatch(ReadOnlySpan{int}, ReadOnlySpan{int}, Span{float}, Span{bool})"/>) have no types and no
/// times, as <see cref="SequentialModel.TryComputeState"/>; those taking <see cref="UserHistory"/> read both.</para>
/// </remarks>
public sealed class OnnxSequentialScorer : ICandidateGenerator, ISequentialScorer, IDisposable
{
    private static readonly string[] StateOnly = [SequentialOnnxExporter.StateOutput];
    private static readonly string[] StateAndScores = [SequentialOnnxExporter.StateOutput, SequentialOnnxExporter.ScoresOutput];
    private static readonly string[] StateAndFeedback = [SequentialOnnxExporter.StateOutput, SequentialOnnxExporter.FeedbackOutput];

    private readonly SequentialModel _model;
    private readonly bool[] _untrained;
    private readonly SessionOptions _sessionOptions;
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly ConcurrentBag<Buffers> _buffers = [];
    private readonly int _maxBatch;
    private readonly string[] _inputNames;
    private readonly int _queryInput;
    private readonly Func<SequentialTokens, int[]>[] _columns;

    /// <summary>Exports <paramref name="model"/> and opens its session.</summary>
    /// <param name="model">A trained (or loaded) model; it is kept for <see cref="ScoreCandidates(in UserHistory, ReadOnlySpan{int}, Span{float})"/>.</param>
    /// <param name="options">Null: CPU, default threads, batches of 32.</param>
    /// <param name="log">Receives the one line written when CUDA was asked for and could not be used; may be null.</param>
    /// <exception cref="ArgumentNullException"><paramref name="model"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">Invalid options.</exception>
    public OnnxSequentialScorer(SequentialModel model, OnnxScorerOptions? options = null, Action<string>? log = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        options ??= new OnnxScorerOptions();
        options.Validate();
        _model = model;
        _maxBatch = options.MaxBatchSize;
        _untrained = SequentialOnnxExporter.UntrainedItems(model);
        _inputNames = [.. SequentialOnnxExporter.InputNames(model)];
        _queryInput = Array.IndexOf(_inputNames, SequentialOnnxExporter.QueryVectorsInput);
        // The int64 inputs in the graph's order: the item ids, then each token table's column.
        _columns = [static t => t.Ids, .. SequentialOnnxExporter.TokenTables(model.Layout).Select(table => table.Column)];
        var graph = SequentialOnnxExporter.Build(model, _untrained);
        (_session, _sessionOptions, ExecutionProvider) = OpenSession(graph, options, log);
    }

    /// <inheritdoc/>
    public string Name => "sequential-onnx";

    /// <inheritdoc/>
    public int ItemCount => _model.ItemCount;

    /// <summary>Width of a user state.</summary>
    public int Width => _model.Width;

    /// <summary>"CUDA" or "CPU": the execution provider the session runs on.</summary>
    public string ExecutionProvider { get; }

    /// <summary>
    /// The user state after <paramref name="items"/> (oldest first), as <see cref="SequentialModel.TryComputeState"/>.
    /// </summary>
    /// <returns>False when there is no item (all negative, or empty); <paramref name="state"/> is then untouched.</returns>
    /// <exception cref="ArgumentException"><paramref name="state"/> is shorter than <see cref="Width"/>, or an item is ≥ <see cref="ItemCount"/>.</exception>
    public bool TryComputeState(ReadOnlySpan<int> items, Span<float> state)
    {
        if (state.Length < Width)
        {
            throw new ArgumentException($"The state needs {Width} floats.", nameof(state));
        }

        Span<int> offsets = [0, items.Length];
        Span<bool> found = [false];
        Run(new Source(items, offsets, null, null), state[..Width], default, found);
        return found[0];
    }

    /// <summary>
    /// The user state after a history, as <see cref="SequentialModel.TryComputeStateOf(in UserHistory, Span{float})"/>: also reads the event types
    /// and times for a model with action types or time gaps.
    /// </summary>
    /// <returns>False when there is no item; <paramref name="state"/> is then untouched.</returns>
    /// <exception cref="ArgumentException"><paramref name="state"/> is shorter than <see cref="Width"/>, or an item is ≥ <see cref="ItemCount"/>.</exception>
    public bool TryComputeStateOf(in UserHistory history, Span<float> state) => TryComputeStateOf(history, SequentialContext.Home, state);

    /// <summary>The user state after a history in a scenario, as <see cref="SequentialModel.TryComputeStateOf(in UserHistory, in SequentialContext, Span{float})"/>.</summary>
    /// <returns>False when there is no token; <paramref name="state"/> is then untouched.</returns>
    /// <exception cref="ArgumentException"><paramref name="state"/> is shorter than <see cref="Width"/>, or an item is ≥ <see cref="ItemCount"/>.</exception>
    public bool TryComputeStateOf(in UserHistory history, in SequentialContext context, Span<float> state)
    {
        if (state.Length < Width)
        {
            throw new ArgumentException($"The state needs {Width} floats.", nameof(state));
        }

        Span<bool> found = [false];
        Run(new Source(default, default, [history], [context]), state[..Width], default, found);
        return found[0];
    }

    /// <summary>
    /// States of a batch of histories, concatenated in <paramref name="items"/>: history h is
    /// <c>items[offsets[h]..offsets[h + 1]]</c>. Row h of <paramref name="states"/> (<see cref="Width"/> floats) is
    /// written when <c>found[h]</c> comes back true; rows without an item are left as they were.
    /// </summary>
    /// <returns>How many histories got a state.</returns>
    /// <exception cref="ArgumentException">Offsets not ascending within <paramref name="items"/>, outputs too short, or an
    /// item ≥ <see cref="ItemCount"/>.</exception>
    public int ComputeStates(ReadOnlySpan<int> items, ReadOnlySpan<int> offsets, Span<float> states, Span<bool> found)
    {
        var count = CheckBatch(items, offsets, found);
        if (states.Length < count * Width)
        {
            throw new ArgumentException($"The states need {count * Width} floats.", nameof(states));
        }

        return Run(new Source(items, offsets, null, null), states, default, found);
    }

    /// <summary>
    /// States of a batch of histories, each read as <see cref="TryComputeStateOf(in UserHistory, Span{float})"/> (types and times included). Row h
    /// of <paramref name="states"/> (<see cref="Width"/> floats) is written when <c>found[h]</c> comes back true.
    /// </summary>
    /// <returns>How many histories got a state.</returns>
    /// <exception cref="ArgumentException">Outputs too short, or an item ≥ <see cref="ItemCount"/>.</exception>
    public int ComputeStates(IReadOnlyList<UserHistory> histories, Span<float> states, Span<bool> found, IReadOnlyList<SequentialContext>? contexts = null)
    {
        var count = CheckBatch(histories, found, contexts);
        if (states.Length < count * Width)
        {
            throw new ArgumentException($"The states need {count * Width} floats.", nameof(states));
        }

        return Run(new Source(default, default, histories, contexts), states, default, found);
    }

    /// <summary>
    /// All-item scores of a batch of histories (laid out as in
    /// <see cref="ComputeStates(ReadOnlySpan{int}, ReadOnlySpan{int}, Span{float}, Span{bool})"/>, no types and no
    /// times): row h of <paramref name="scores"/> holds <see cref="ItemCount"/> floats, −∞ for items the model never
    /// recommends, written when <c>found[h]</c> comes back true.
    /// </summary>
    /// <returns>How many histories were scored.</returns>
    /// <exception cref="ArgumentException">As <see cref="ComputeStates(ReadOnlySpan{int}, ReadOnlySpan{int}, Span{float}, Span{bool})"/>.</exception>
    public int ScoreBatch(ReadOnlySpan<int> items, ReadOnlySpan<int> offsets, Span<float> scores, Span<bool> found)
    {
        var count = CheckBatch(items, offsets, found);
        if (scores.Length < (long)count * ItemCount)
        {
            throw new ArgumentException($"The scores need {(long)count * ItemCount} floats.", nameof(scores));
        }

        var states = new float[count * Width];
        return Run(new Source(items, offsets, null, null), states, scores, found);
    }

    /// <summary>
    /// All-item scores of a batch of histories, each read as <see cref="TryComputeStateOf(in UserHistory, Span{float})"/> (types and times
    /// included): row h of <paramref name="scores"/> holds <see cref="ItemCount"/> floats, written when <c>found[h]</c>
    /// comes back true.
    /// </summary>
    /// <returns>How many histories were scored.</returns>
    /// <exception cref="ArgumentException">As <see cref="ComputeStates(IReadOnlyList{UserHistory}, Span{float}, Span{bool}, IReadOnlyList{SequentialContext})"/>.</exception>
    public int ScoreBatch(IReadOnlyList<UserHistory> histories, Span<float> scores, Span<bool> found, IReadOnlyList<SequentialContext>? contexts = null)
    {
        var count = CheckBatch(histories, found, contexts);
        if (scores.Length < (long)count * ItemCount)
        {
            throw new ArgumentException($"The scores need {(long)count * ItemCount} floats.", nameof(scores));
        }

        var states = new float[count * Width];
        return Run(new Source(default, default, histories, contexts), states, scores, found);
    }

    /// <inheritdoc/>
    /// <remarks>The user index is not used: any history with an item is scored; its types and times are read as in
    /// <see cref="TryComputeStateOf(in UserHistory, Span{float})"/>. Items the model never recommends score −∞.</remarks>
    /// <exception cref="ArgumentException"><paramref name="scores"/> is not <see cref="ItemCount"/> long, or an item is ≥ <see cref="ItemCount"/>.</exception>
    public bool Score(in UserHistory user, Span<float> scores) => Score(user, SequentialContext.Home, scores);

    /// <summary>All-item scores of a history in a scenario, as <see cref="SequentialModel.Score(in UserHistory, in SequentialContext, Span{float})"/>.</summary>
    /// <returns>False when the history has no token.</returns>
    /// <exception cref="ArgumentException"><paramref name="scores"/> is not <see cref="ItemCount"/> long, or an item is ≥ <see cref="ItemCount"/>.</exception>
    public bool Score(in UserHistory user, in SequentialContext context, Span<float> scores)
    {
        if (scores.Length != ItemCount)
        {
            throw new ArgumentException($"Expected {ItemCount} scores, got {scores.Length}.", nameof(scores));
        }

        Span<bool> found = [false];
        Span<float> state = Width <= 256 ? stackalloc float[Width] : new float[Width];
        Run(new Source(default, default, [user], [context]), state, scores, found);
        return found[0];
    }


    /// <summary>
    /// Scores only <paramref name="candidates"/>: the state once through ONNX Runtime, then one dot product per
    /// candidate. Equal to <see cref="Score(in UserHistory, Span{float})"/> at those indices (to float rounding); −∞ for items the model never
    /// recommends. Repeated candidates are scored each time; an empty list only checks the history.
    /// </summary>
    /// <returns>False when the history has no item (then <paramref name="scores"/> is untouched).</returns>
    /// <exception cref="ArgumentException"><paramref name="scores"/> is shorter than <paramref name="candidates"/>, or an
    /// item or candidate is outside [0, <see cref="ItemCount"/>).</exception>
    public bool ScoreCandidates(in UserHistory user, ReadOnlySpan<int> candidates, Span<float> scores) =>
        ScoreCandidates(user, SequentialContext.Home, candidates, scores);

    /// <summary>Scores of the candidates in a scenario: the state once through ONNX Runtime (with the context's token
    /// last), then one dot product each.</summary>
    /// <returns>False when the history has no token.</returns>
    /// <exception cref="ArgumentException">As <see cref="ScoreCandidates(in UserHistory, ReadOnlySpan{int}, Span{float})"/>.</exception>
    public bool ScoreCandidates(in UserHistory user, in SequentialContext context, ReadOnlySpan<int> candidates, Span<float> scores)
    {
        if (scores.Length < candidates.Length)
        {
            throw new ArgumentException($"The scores need {candidates.Length} floats.", nameof(scores));
        }

        foreach (var candidate in candidates)
        {
            if ((uint)candidate >= (uint)ItemCount)
            {
                throw new ArgumentException($"Candidate {candidate} is outside the model's {ItemCount} items.", nameof(candidates));
            }
        }

        var d = Width;
        Span<float> state = d <= 256 ? stackalloc float[d] : new float[d];
        if (!TryComputeStateOf(user, context, state))
        {
            return false;
        }

        var table = _model.ItemEmbeddings;
        for (var c = 0; c < candidates.Length; c++)
        {
            var item = candidates[c];
            scores[c] = _untrained[item] ? float.NegativeInfinity : TensorPrimitives.Dot(table.Slice(item * d, d), state);
        }

        return true;
    }

    /// <summary>
    /// The feedback head of <paramref name="eventType"/> through ONNX Runtime: for each of <paramref name="items"/>, the
    /// probability that the user's next event, if it is on that item, has that type (as
    /// <see cref="SequentialModel.PredictFeedback(in UserHistory, in SequentialContext, int, string)"/>, here in a scenario and for many items in one run).
    /// </summary>
    /// <returns>False when the history has no token (then <paramref name="probabilities"/> is untouched).</returns>
    /// <exception cref="InvalidOperationException">The model has no head for <paramref name="eventType"/>.</exception>
    /// <exception cref="ArgumentException">Lengths differ, or an item is out of range.</exception>
    public bool PredictFeedback(in UserHistory user, in SequentialContext context, string eventType, ReadOnlySpan<int> items, Span<float> probabilities)
    {
        ArgumentNullException.ThrowIfNull(eventType);
        var head = _model.Layout.FeedbackHeadOf(eventType);
        if (head < 0)
        {
            throw new InvalidOperationException($"The model was trained without a '{eventType}' feedback head.");
        }

        if (probabilities.Length != items.Length)
        {
            throw new ArgumentException("One probability per item is needed.", nameof(probabilities));
        }

        foreach (var item in items)
        {
            if ((uint)item >= (uint)ItemCount)
            {
                throw new ArgumentException($"Item {item} is outside the model's {ItemCount} items.", nameof(items));
            }
        }

        var heads = _model.Layout.FeedbackTypes.Length;
        var feedback = new float[heads * ItemCount];
        Span<bool> found = [false];
        Span<float> state = Width <= 256 ? stackalloc float[Width] : new float[Width];
        Run(new Source(default, default, [user], [context]), state, default, found, feedback);
        if (!found[0])
        {
            return false;
        }

        var row = feedback.AsSpan(head * ItemCount, ItemCount);
        for (var k = 0; k < items.Length; k++)
        {
            probabilities[k] = row[items[k]];
        }

        return true;
    }

    /// <summary>Closes the session.</summary>
    public void Dispose()
    {
        _session.Dispose();
        _sessionOptions.Dispose();
        _runOptions.Dispose();
    }

    private static (InferenceSession Session, SessionOptions Options, string Provider) OpenSession(
        byte[] graph, OnnxScorerOptions options, Action<string>? log)
    {
        if (options.UseCuda)
        {
            var cuda = BaseOptions(options);
            try
            {
                cuda.AppendExecutionProvider_CUDA(options.DeviceId);
                return (new InferenceSession(graph, cuda), cuda, "CUDA");
            }
            catch (Exception e) when (e is OnnxRuntimeException or EntryPointNotFoundException or DllNotFoundException)
            {
                // The CPU package has no CUDA entry point; the GPU package throws when its libraries or device are missing.
                cuda.Dispose();
                var reason = e.Message.Split('\n', 2)[0].Trim();
                log?.Invoke($"CUDA execution provider unavailable on device {options.DeviceId} ({e.GetType().Name}: {reason}); scoring on CPU.");
            }
        }

        var cpu = BaseOptions(options);
        try
        {
            return (new InferenceSession(graph, cpu), cpu, "CPU");
        }
        catch
        {
            cpu.Dispose();
            throw;
        }
    }

    private static SessionOptions BaseOptions(OnnxScorerOptions options)
    {
        var session = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        if (options.IntraOpThreads > 0)
        {
            session.IntraOpNumThreads = options.IntraOpThreads;
        }

        return session;
    }

    private static int CheckBatch(IReadOnlyList<UserHistory> histories, Span<bool> found, IReadOnlyList<SequentialContext>? contexts)
    {
        ArgumentNullException.ThrowIfNull(histories);
        if (contexts is not null && contexts.Count != histories.Count)
        {
            throw new ArgumentException("One context per history is needed.", nameof(contexts));
        }

        if (found.Length < histories.Count)
        {
            throw new ArgumentException($"Found needs {histories.Count} entries.", nameof(found));
        }

        return histories.Count;
    }

    private static int CheckBatch(ReadOnlySpan<int> items, ReadOnlySpan<int> offsets, Span<bool> found)
    {
        if (offsets.IsEmpty)
        {
            throw new ArgumentException("Offsets need at least one entry.", nameof(offsets));
        }

        var count = offsets.Length - 1;
        if (found.Length < count)
        {
            throw new ArgumentException($"Found needs {count} entries.", nameof(found));
        }

        for (var h = 0; h < count; h++)
        {
            if (offsets[h] < 0 || offsets[h] > offsets[h + 1] || offsets[h + 1] > items.Length)
            {
                throw new ArgumentException($"Offsets {h} and {h + 1} do not bound a slice of the items.", nameof(offsets));
            }
        }

        return count;
    }

    /// <summary>Fills pooled rows with the histories, runs them in batches and copies states (and scores) out.</summary>
    private int Run(in Source source, Span<float> states, Span<float> scores, Span<bool> found, float[]? feedback = null)
    {
        var buffers = _buffers.TryTake(out var pooled) ? pooled : new Buffers(_maxBatch, _model.Options.MaxLength, Width, _inputNames.Length, _columns.Length, _model.Layout.TextDimension);
        try
        {
            var answered = 0;
            var rows = 0;
            for (var h = 0; h < source.Count; h++)
            {
                found[h] = Fill(source, h, buffers, rows);
                if (!found[h])
                {
                    continue;
                }

                buffers.Requests[rows++] = h;
                answered++;
                if (rows == _maxBatch)
                {
                    Flush(buffers, rows, states, scores, feedback);
                    rows = 0;
                }
            }

            if (rows > 0)
            {
                Flush(buffers, rows, states, scores, feedback);
            }

            return answered;
        }
        finally
        {
            _buffers.Add(buffers);
        }
    }

    /// <summary>Lays out history h of the source in row <paramref name="row"/> of every input, right-aligned and
    /// left-padded (the tokens of <c>SequentialModel.LayOut</c>); false when it has no token.</summary>
    private bool Fill(in Source source, int h, Buffers buffers, int row)
    {
        var length = _model.Options.MaxLength;
        var laid = buffers.Laid;
        int count;
        if (source.Histories is { } histories)
        {
            var context = source.Contexts is { } contexts ? contexts[h] : SequentialContext.Home;
            count = _model.LayOut(histories[h], context, laid, buffers.QueryScratch);
        }
        else
        {
            var range = source.Offsets[h]..source.Offsets[h + 1];
            count = _model.LayOut(source.Items[range], default, default, laid, buffers.QueryScratch);
        }

        if (count == 0)
        {
            return false;
        }

        var padding = length - count;
        for (var k = 0; k < _columns.Length; k++)
        {
            var column = _columns[k](laid);
            var target = buffers.Tokens[k].AsSpan(row * length, length);
            target[..padding].Fill(k == 0 ? SequentialOnnxExporter.PaddingId : 0);
            for (var t = 0; t < count; t++)
            {
                target[padding + t] = column[t];
            }
        }

        if (_queryInput >= 0)
        {
            var dimension = _model.Layout.TextDimension;
            var target = buffers.QueryVectors.AsSpan(row * length * dimension, length * dimension);
            target.Clear();
            for (var t = 0; t < count; t++)
            {
                if (laid.Ids[t] < 0)
                {
                    buffers.QueryScratch.AsSpan(t * dimension, dimension).CopyTo(target.Slice((padding + t) * dimension, dimension));
                }
            }
        }

        return true;
    }

    // With feedback (one history only): the state and the feedback-head output, written into that array.
    private void Flush(Buffers buffers, int rows, Span<float> states, Span<float> scores, float[]? feedback)
    {
        var d = Width;
        var n = ItemCount;
        var withScores = !scores.IsEmpty;
        if (withScores && buffers.Scores is null)
        {
            buffers.Scores = new float[_maxBatch * n];
        }

        var length = _model.Options.MaxLength;
        using var state = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, buffers.States.AsMemory(0, rows * d), [rows, d]);
        try
        {
            for (var k = 0; k < _columns.Length; k++)
            {
                buffers.Inputs[k] = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, buffers.Tokens[k].AsMemory(0, rows * length), [rows, length]);
            }

            if (_queryInput >= 0)
            {
                var dimension = _model.Layout.TextDimension;
                buffers.Inputs[_queryInput] = OrtValue.CreateTensorValueFromMemory(
                    OrtMemoryInfo.DefaultInstance, buffers.QueryVectors.AsMemory(0, rows * length * dimension), [rows, length, dimension]);
            }

            if (feedback is not null)
            {
                var heads = _model.Layout.FeedbackTypes.Length;
                using var probabilities = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, feedback.AsMemory(), [rows, heads, n]);
                buffers.Both[0] = state;
                buffers.Both[1] = probabilities;
                _session.Run(_runOptions, _inputNames, buffers.Inputs, StateAndFeedback, buffers.Both);
            }
            else if (withScores)
            {
                using var all = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, buffers.Scores!.AsMemory(0, rows * n), [rows, n]);
                buffers.Both[0] = state;
                buffers.Both[1] = all;
                _session.Run(_runOptions, _inputNames, buffers.Inputs, StateAndScores, buffers.Both);
            }
            else
            {
                buffers.StateOnly[0] = state;
                _session.Run(_runOptions, _inputNames, buffers.Inputs, StateOnly, buffers.StateOnly);
            }
        }
        finally
        {
            // The pooled arrays must not keep disposed values alive.
            foreach (var input in buffers.Inputs)
            {
                input?.Dispose();
            }

            Array.Clear(buffers.Inputs);
            Array.Clear(buffers.StateOnly);
            Array.Clear(buffers.Both);
        }

        for (var r = 0; r < rows; r++)
        {
            var h = buffers.Requests[r];
            buffers.States.AsSpan(r * d, d).CopyTo(states.Slice(h * d, d));
            if (withScores)
            {
                buffers.Scores.AsSpan(r * n, n).CopyTo(scores.Slice(h * n, n));
            }
        }
    }

    /// <summary>One caller's rows: token inputs in (with the laid-out tokens of one history), states and scores out,
    /// and which request each row answers.</summary>
    private sealed class Buffers(int rows, int length, int width, int inputs, int tokenInputs, int textDimension)
    {
        /// <summary>One int64 [rows, length] array per token input, in the order of the exporter's input names.</summary>
        public long[][] Tokens { get; } = [.. Enumerable.Range(0, tokenInputs).Select(_ => new long[rows * length])];

        /// <summary>The query-vector input [rows, length, textDimension]; empty without one.</summary>
        public float[] QueryVectors { get; } = new float[tokenInputs < inputs ? rows * length * textDimension : 0];

        public SequentialTokens Laid { get; } = new(length + 1);

        public float[] QueryScratch { get; } = new float[length * textDimension];

        public float[] States { get; } = new float[rows * width];

        public float[]? Scores { get; set; }

        public int[] Requests { get; } = new int[rows];

        public OrtValue[] Inputs { get; } = new OrtValue[inputs];

        public OrtValue[] StateOnly { get; } = new OrtValue[1];

        public OrtValue[] Both { get; } = new OrtValue[2];
    }

    /// <summary>The histories of one call: either item spans cut by offsets (no types, times or context), or a list of
    /// <see cref="UserHistory"/> with an optional context each.</summary>
    private readonly ref struct Source(ReadOnlySpan<int> items, ReadOnlySpan<int> offsets, IReadOnlyList<UserHistory>? histories, IReadOnlyList<SequentialContext>? contexts)
    {
        public ReadOnlySpan<int> Items { get; } = items;

        public ReadOnlySpan<int> Offsets { get; } = offsets;

        public IReadOnlyList<UserHistory>? Histories { get; } = histories;

        public IReadOnlyList<SequentialContext>? Contexts { get; } = contexts;

        public int Count => Histories?.Count ?? Math.Max(Offsets.Length - 1, 0);
    }
}
