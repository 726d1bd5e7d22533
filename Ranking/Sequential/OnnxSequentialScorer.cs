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
/// <para>Histories are read like <see cref="SequentialModel.TryComputeState"/>: searches (negative items) skipped,
/// the last MaxLength items kept, an item ≥ <see cref="ItemCount"/> rejected; a history with no item has no answer.</para>
/// </remarks>
public sealed class OnnxSequentialScorer : ICandidateGenerator, IDisposable
{
    private static readonly string[] InputNames = [SequentialOnnxExporter.ItemsInput];
    private static readonly string[] StateOnly = [SequentialOnnxExporter.StateOutput];
    private static readonly string[] StateAndScores = [SequentialOnnxExporter.StateOutput, SequentialOnnxExporter.ScoresOutput];

    private readonly SequentialModel _model;
    private readonly bool[] _untrained;
    private readonly SessionOptions _sessionOptions;
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly ConcurrentBag<Buffers> _buffers = [];
    private readonly int _maxBatch;

    /// <summary>Exports <paramref name="model"/> and opens its session.</summary>
    /// <param name="model">A trained (or loaded) model; it is kept for <see cref="ScoreCandidates"/>.</param>
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
        Run(items, offsets, state[..Width], default, found);
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

        return Run(items, offsets, states, default, found);
    }

    /// <summary>
    /// All-item scores of a batch of histories (laid out as in <see cref="ComputeStates"/>): row h of
    /// <paramref name="scores"/> holds <see cref="ItemCount"/> floats, −∞ for items never seen in training, written when
    /// <c>found[h]</c> comes back true.
    /// </summary>
    /// <returns>How many histories were scored.</returns>
    /// <exception cref="ArgumentException">As <see cref="ComputeStates"/>.</exception>
    public int ScoreBatch(ReadOnlySpan<int> items, ReadOnlySpan<int> offsets, Span<float> scores, Span<bool> found)
    {
        var count = CheckBatch(items, offsets, found);
        if (scores.Length < (long)count * ItemCount)
        {
            throw new ArgumentException($"The scores need {(long)count * ItemCount} floats.", nameof(scores));
        }

        var states = new float[count * Width];
        return Run(items, offsets, states, scores, found);
    }

    /// <inheritdoc/>
    /// <remarks>The user index is not used: any history with an item is scored. Items never seen in training score −∞.</remarks>
    /// <exception cref="ArgumentException"><paramref name="scores"/> is not <see cref="ItemCount"/> long, or an item is ≥ <see cref="ItemCount"/>.</exception>
    public bool Score(in UserHistory user, Span<float> scores)
    {
        if (scores.Length != ItemCount)
        {
            throw new ArgumentException($"Expected {ItemCount} scores, got {scores.Length}.", nameof(scores));
        }

        var items = user.Items.Span;
        Span<int> offsets = [0, items.Length];
        Span<bool> found = [false];
        Span<float> state = Width <= 256 ? stackalloc float[Width] : new float[Width];
        Run(items, offsets, state, scores, found);
        return found[0];
    }

    /// <summary>
    /// Scores only <paramref name="candidates"/>: the state once through ONNX Runtime, then one dot product per
    /// candidate. Equal to <see cref="Score"/> at those indices (to float rounding); −∞ for items never seen in
    /// training. Repeated candidates are scored each time; an empty list only checks the history.
    /// </summary>
    /// <returns>False when the history has no item (then <paramref name="scores"/> is untouched).</returns>
    /// <exception cref="ArgumentException"><paramref name="scores"/> is shorter than <paramref name="candidates"/>, or an
    /// item or candidate is outside [0, <see cref="ItemCount"/>).</exception>
    public bool ScoreCandidates(in UserHistory user, ReadOnlySpan<int> candidates, Span<float> scores)
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
        if (!TryComputeState(user.Items.Span, state))
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
    private int Run(ReadOnlySpan<int> items, ReadOnlySpan<int> offsets, Span<float> states, Span<float> scores, Span<bool> found)
    {
        var length = _model.Options.MaxLength;
        var buffers = _buffers.TryTake(out var pooled) ? pooled : new Buffers(_maxBatch, length, Width);
        try
        {
            var answered = 0;
            var rows = 0;
            for (var h = 0; h + 1 < offsets.Length; h++)
            {
                found[h] = Fill(items[offsets[h]..offsets[h + 1]], buffers.Ids.AsSpan(rows * length, length));
                if (!found[h])
                {
                    continue;
                }

                buffers.Requests[rows++] = h;
                answered++;
                if (rows == _maxBatch)
                {
                    Flush(buffers, rows, states, scores);
                    rows = 0;
                }
            }

            if (rows > 0)
            {
                Flush(buffers, rows, states, scores);
            }

            return answered;
        }
        finally
        {
            _buffers.Add(buffers);
        }
    }

    /// <summary>Lays out one history right-aligned and left-padded; false when it has no item.</summary>
    private bool Fill(ReadOnlySpan<int> history, Span<long> row)
    {
        var slot = row.Length;
        for (var r = history.Length - 1; r >= 0 && slot > 0; r--)
        {
            var item = history[r];
            if (item < 0)
            {
                continue;
            }

            if (item >= ItemCount)
            {
                throw new ArgumentException($"Item {item} is outside the model's {ItemCount} items.", "items");
            }

            row[--slot] = item;
        }

        row[..slot].Fill(SequentialOnnxExporter.PaddingId);
        return slot < row.Length;
    }

    private void Flush(Buffers buffers, int rows, Span<float> states, Span<float> scores)
    {
        var d = Width;
        var n = ItemCount;
        var withScores = !scores.IsEmpty;
        if (withScores && buffers.Scores is null)
        {
            buffers.Scores = new float[_maxBatch * n];
        }

        var length = _model.Options.MaxLength;
        using var input = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, buffers.Ids.AsMemory(0, rows * length), [rows, length]);
        using var state = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, buffers.States.AsMemory(0, rows * d), [rows, d]);
        buffers.Inputs[0] = input;
        try
        {
            if (withScores)
            {
                using var all = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, buffers.Scores!.AsMemory(0, rows * n), [rows, n]);
                buffers.Both[0] = state;
                buffers.Both[1] = all;
                _session.Run(_runOptions, InputNames, buffers.Inputs, StateAndScores, buffers.Both);
            }
            else
            {
                buffers.StateOnly[0] = state;
                _session.Run(_runOptions, InputNames, buffers.Inputs, StateOnly, buffers.StateOnly);
            }
        }
        finally
        {
            // The pooled arrays must not keep disposed values alive.
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

    /// <summary>One caller's rows: ids in, states and scores out, and which request each row answers.</summary>
    private sealed class Buffers(int rows, int length, int width)
    {
        public long[] Ids { get; } = new long[rows * length];

        public float[] States { get; } = new float[rows * width];

        public float[]? Scores { get; set; }

        public int[] Requests { get; } = new int[rows];

        public OrtValue[] Inputs { get; } = new OrtValue[1];

        public OrtValue[] StateOnly { get; } = new OrtValue[1];

        public OrtValue[] Both { get; } = new OrtValue[2];
    }
}
