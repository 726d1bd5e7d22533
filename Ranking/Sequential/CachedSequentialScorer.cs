using System.Collections.Concurrent;
using System.Numerics.Tensors;
using Ranking.Candidates;

namespace Ranking.Sequential;

/// <summary>
/// The transformer as a candidate source with ARGUS-style cached user states: the expensive part, the user state over
/// the history, is computed once per (user, history) and kept; a request for the same history then costs one dot
/// product per item. A new event changes the history's fingerprint (length, last item, last time), so the state is
/// recomputed on the next request — the cache refreshes itself when new events arrive. <see cref="Warm"/> computes
/// states ahead of requests (after training, or in a background job). Thread-safe; bounded (least recently used
/// states go first). Only users with a trained index are cached; anonymous histories are computed every time.
/// States are computed by ONNX Runtime when an <see cref="OnnxSequentialScorer"/> is given (the serving path), else by
/// the C# forward pass; scores are then one dot product per item with the model's item table either way.
/// </summary>
public sealed class CachedSequentialScorer : ICandidateGenerator, ISequentialScorer
{
    private readonly SequentialModel _model;
    private readonly OnnxSequentialScorer? _onnx;
    private readonly ConcurrentDictionary<int, Entry> _states = new();
    private readonly int _capacity;
    private long _clock;
    private long _hits;
    private long _misses;

    /// <param name="model">The trained model.</param>
    /// <param name="capacity">Most user states kept.</param>
    /// <param name="onnx">ONNX Runtime's session of the same model, to compute states with; null: the C# pass. The caller owns it.</param>
    /// <exception cref="ArgumentException">The ONNX scorer serves another model's item space.</exception>
    public CachedSequentialScorer(SequentialModel model, int capacity = 100_000, OnnxSequentialScorer? onnx = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        if (onnx is not null && (onnx.ItemCount != model.ItemCount || onnx.Width != model.Width))
        {
            throw new ArgumentException("The ONNX scorer serves another model.", nameof(onnx));
        }

        _model = model;
        _capacity = capacity;
        _onnx = onnx;
    }

    /// <summary>What computes the states: "onnx-cpu", "onnx-cuda" or "csharp".</summary>
    public string Engine => _onnx is null ? "csharp" : "onnx-" + _onnx.ExecutionProvider.ToLowerInvariant();

    public string Name => _model.Name;

    public int ItemCount => _model.ItemCount;

    /// <summary>Requests answered from a cached state.</summary>
    public long Hits => Interlocked.Read(ref _hits);

    /// <summary>Requests that computed the state.</summary>
    public long Misses => Interlocked.Read(ref _misses);

    /// <summary>States held.</summary>
    public int Count => _states.Count;

    /// <summary>Computes and caches the states of these histories ahead of requests.</summary>
    /// <returns>How many states were computed.</returns>
    public int Warm(IEnumerable<UserHistory> histories, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(histories);
        var computed = 0;
        foreach (var history in histories)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (history.User >= 0 && StateOf(history, count: false) is not null)
            {
                computed++;
            }
        }

        return computed;
    }

    /// <inheritdoc/>
    public bool Score(in UserHistory user, Span<float> scores)
    {
        if (scores.Length != ItemCount)
        {
            throw new ArgumentException($"Expected {ItemCount} scores, got {scores.Length}.", nameof(scores));
        }

        var state = user.User < 0 ? Compute(user, SequentialContext.Home) : StateOf(user, count: true);
        if (state is null)
        {
            return false;
        }

        Dot(state, scores);
        return true;
    }


    /// <summary>The model this scorer caches states of.</summary>
    public SequentialModel Model => _model;

    /// <summary>Scores in a scenario: the home context reads the cached state; an anchor or query context (which only
    /// models with <see cref="SequentialOptions.UseContext"/> read) computes the state with the context's token each time.</summary>
    /// <returns>False when the history (and context) has no token.</returns>
    public bool Score(in UserHistory user, in SequentialContext context, Span<float> scores)
    {
        if (context.Kind == SequentialContextKind.None || !_model.Options.UseContext)
        {
            return Score(user, scores);
        }

        if (scores.Length != ItemCount)
        {
            throw new ArgumentException($"Expected {ItemCount} scores, got {scores.Length}.", nameof(scores));
        }

        if (Compute(user, context) is not { } state)
        {
            return false;
        }

        Dot(state, scores);
        return true;
    }

    private float[]? Compute(in UserHistory history, in SequentialContext context)
    {
        var state = new float[_model.Width];
        var found = _onnx is { } onnx ? onnx.TryComputeStateOf(history, context, state) : _model.TryComputeStateOf(history, context, state);
        return found ? state : null;
    }

    private void Dot(float[] state, Span<float> scores)
    {
        var d = _model.Width;
        var table = _model.ItemEmbeddings;
        for (var i = 0; i < scores.Length; i++)
        {
            scores[i] = _model.IsScored(i) ? TensorPrimitives.Dot(table.Slice(i * d, d), state) : float.NegativeInfinity;
        }
    }

    private float[]? StateOf(in UserHistory history, bool count)
    {
        var fingerprint = Fingerprint(history);
        var now = Interlocked.Increment(ref _clock);
        if (_states.TryGetValue(history.User, out var entry) && entry.Fingerprint == fingerprint)
        {
            entry.LastUse = now;
            if (count)
            {
                Interlocked.Increment(ref _hits);
            }

            return entry.State;
        }

        var state = Compute(history, SequentialContext.Home);
        if (state is null)
        {
            return null;
        }

        if (count)
        {
            Interlocked.Increment(ref _misses);
        }

        if (_states.Count >= _capacity)
        {
            Evict();
        }

        _states[history.User] = new Entry(fingerprint, state) { LastUse = now };
        return state;
    }

    private void Evict()
    {
        // Drops the least recently used tenth in one pass, so eviction is rare and cheap per request.
        var victims = _states.OrderBy(p => p.Value.LastUse).Take(Math.Max(1, _capacity / 10)).Select(p => p.Key).ToList();
        foreach (var key in victims)
        {
            _states.TryRemove(key, out _);
        }
    }

    private static (int Length, int LastItem, long LastMs) Fingerprint(in UserHistory history)
    {
        var items = history.Items.Span;
        var times = history.TimestampsMs.Span;
        return items.Length == 0 ? (0, -1, 0) : (items.Length, items[^1], times.IsEmpty ? 0 : times[^1]);
    }

    private sealed class Entry((int Length, int LastItem, long LastMs) fingerprint, float[] state)
    {
        public (int Length, int LastItem, long LastMs) Fingerprint { get; } = fingerprint;

        public float[] State { get; } = state;

        public long LastUse { get; set; }
    }
}
