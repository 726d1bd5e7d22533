using System.Buffers;
using System.Diagnostics;
using System.Numerics.Tensors;
using Ranking.Data;

namespace Ranking.Candidates;

/// <summary>Settings of <see cref="EaseModel"/>.</summary>
public sealed record EaseOptions
{
    /// <summary>Largest <see cref="MaxItems"/> accepted: a dense n × n float matrix must fit one .NET array.</summary>
    public const int LargestSupportedItems = 46_340;

    /// <summary>
    /// λ, the L2 penalty on the item–item weights, added to the diagonal of the Gram matrix XᵀX. Larger values
    /// shrink the weights and favour popular items less; Steck (2019) reports 200–1000 as good on his data sets.
    /// Default 500; finite and &gt; 0 (it also keeps XᵀX + λI invertible when items have identical columns).
    /// </summary>
    public float Lambda { get; init; } = 500f;

    /// <summary>
    /// True (default, as in the paper): X holds 1 for every (user, item) pair with an event, and a user is scored
    /// with x = 1 per distinct history item. False: X holds the pair's summed event-type weights (pairs whose sum is
    /// not positive left out), and a history item counts with its summed weight.
    /// </summary>
    public bool Binary { get; init; } = true;

    /// <summary>
    /// Largest number of items (those with at least one interaction) the model accepts. Training holds one dense
    /// n × n float matrix (n² × 4 bytes: 6.4 GB at 40,000) and inverts it in O(n³) (about 6 · 10¹³ operations at
    /// 40,000: more than ten minutes even at 100 GFLOP/s). Default 40,000; 1 to <see cref="LargestSupportedItems"/>.
    /// </summary>
    public int MaxItems { get; init; } = 40_000;

    /// <summary>Threads for the Gram matrix and the inversion: -1 (default) for all cores, else at least 1.</summary>
    public int MaxDegreeOfParallelism { get; init; } = -1;

    /// <summary>Checks every setting.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of its documented range.</exception>
    public void Validate()
    {
        if (!float.IsFinite(Lambda) || Lambda <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(Lambda), Lambda, "Lambda must be finite and > 0.");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(MaxItems, 1, nameof(MaxItems));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(MaxItems, LargestSupportedItems, nameof(MaxItems));
        if (MaxDegreeOfParallelism is 0 or < -1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxDegreeOfParallelism), MaxDegreeOfParallelism, "Use -1 for all cores, or at least 1.");
        }
    }
}

/// <summary>Wall-clock time of each training step of <see cref="EaseModel"/>; zero for a loaded model.</summary>
/// <param name="Gram">Building XᵀX + λI from the sparse matrix.</param>
/// <param name="Inverse">Inverting it (Cholesky and inverse of the factor).</param>
/// <param name="Weights">Turning the inverse into the weights B = I − P · diag(1/diag P).</param>
public readonly record struct EaseTrainingTimes(TimeSpan Gram, TimeSpan Inverse, TimeSpan Weights)
{
    public TimeSpan Total => Gram + Inverse + Weights;
}

/// <summary>
/// EASE (Steck 2019, "Embarrassingly Shallow Autoencoders for Sparse Data"): the item–item weight matrix B that
/// minimises ‖X − XB‖² + λ‖B‖² subject to diag(B) = 0, in closed form P = (XᵀX + λI)⁻¹, B_ij = −P_ij / P_jj (i ≠ j).
/// A user is scored by Σ_h x_h · B[h, :] over her distinct history items h.
/// </summary>
/// <remarks>
/// Only items with at least one interaction get a row and a column of B (a compact index); the others score −∞ and
/// have no similar items. B is dense: n² floats for n such items, held in memory and written whole by
/// <see cref="Save"/>; training costs O(n³) (see <see cref="EaseOptions.MaxItems"/>). The user index of a
/// <see cref="UserHistory"/> is not used: any history can be scored, including a new user's.
/// </remarks>
public sealed class EaseModel : ICandidateGenerator, IItemSimilarity
{
    private const string Kind = "ease";
    private const int FormatVersion = 1;

    private readonly int[] _items;
    private readonly int[] _compact;
    private readonly float[] _weights;

    private EaseModel(int itemCount, int[] items, float[] weights, float lambda, bool binary, EaseTrainingTimes times)
    {
        ItemCount = itemCount;
        _items = items;
        _weights = weights;
        Lambda = lambda;
        Binary = binary;
        TrainingTimes = times;
        _compact = new int[itemCount];
        Array.Fill(_compact, -1);
        for (var c = 0; c < items.Length; c++)
        {
            _compact[items[c]] = c;
        }
    }

    public string Name => "ease";

    /// <summary>Size of the catalogue index space (items without interactions included).</summary>
    public int ItemCount { get; }

    /// <summary>Items with a row in B: those that had at least one interaction in training.</summary>
    public int ModelledItemCount => _items.Length;

    public float Lambda { get; }

    public bool Binary { get; }

    /// <summary>How long each training step took; all zero for a model read with <see cref="Load"/>.</summary>
    public EaseTrainingTimes TrainingTimes { get; }

    /// <summary>Trains on the log's user–item matrix (0/1 or summed event weights, per <see cref="EaseOptions.Binary"/>).</summary>
    /// <inheritdoc cref="Train(UserItemMatrix, EaseOptions?, CancellationToken)"/>
    public static EaseModel Train(InteractionLog log, EaseOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(log);
        options ??= new EaseOptions();
        options.Validate();
        return Train(UserItemMatrix.From(log, options.Binary), options, cancellationToken);
    }

    /// <summary>
    /// Trains on a user–item matrix. With <see cref="EaseOptions.Binary"/> every stored pair counts 1 whatever its
    /// value; otherwise the stored values are used as they are.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    /// <exception cref="ArgumentException">More items with interactions than <see cref="EaseOptions.MaxItems"/>.</exception>
    /// <exception cref="InvalidOperationException">XᵀX + λI was not numerically positive definite (λ far too small
    /// for the scale of the weights).</exception>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    public static EaseModel Train(UserItemMatrix matrix, EaseOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(matrix);
        options ??= new EaseOptions();
        options.Validate();

        var catalogue = matrix.ItemCount;
        var compact = new int[catalogue];
        var active = 0;
        for (var i = 0; i < catalogue; i++)
        {
            compact[i] = matrix.ItemDegree(i) > 0 ? active++ : -1;
        }

        if (active > options.MaxItems)
        {
            var gib = (double)active * active * sizeof(float) / (1L << 30);
            throw new ArgumentException(
                $"EASE refuses {active:N0} items with interactions (limit EaseOptions.MaxItems = {options.MaxItems:N0}): it holds a dense "
                + $"{active:N0} × {active:N0} float matrix (n² × 4 bytes = {gib:0.0} GiB; the Gram matrix, its inverse and the weights "
                + $"share it in place, and the model keeps it) and inverts it in O(n³) ≈ {(double)active * active * active:0.0e0} "
                + "floating-point operations. Keep only the most popular items, or use item-kNN or ALS for this catalogue.",
                nameof(matrix));
        }

        var items = new int[active];
        for (var i = 0; i < catalogue; i++)
        {
            if (compact[i] >= 0)
            {
                items[compact[i]] = i;
            }
        }

        var parallel = new ParallelOptions { MaxDegreeOfParallelism = options.MaxDegreeOfParallelism, CancellationToken = cancellationToken };
        var clock = Stopwatch.StartNew();
        var g = active == 0 ? [] : GC.AllocateUninitializedArray<float>(active * active);
        BuildGram(matrix, options, items, compact, g, parallel);
        var gram = clock.Elapsed;

        clock.Restart();
        try
        {
            DenseSpd.InvertInPlace(g, active, options.MaxDegreeOfParallelism, cancellationToken);
        }
        catch (ArgumentException e)
        {
            throw new InvalidOperationException(
                $"XᵀX + λI with λ = {options.Lambda} is not numerically positive definite; use a larger Lambda.", e);
        }

        var inverse = clock.Elapsed;
        clock.Restart();
        ToWeights(g, active, parallel);
        var weights = clock.Elapsed;
        return new EaseModel(catalogue, items, g, options.Lambda, options.Binary, new EaseTrainingTimes(gram, inverse, weights));
    }

    /// <summary>
    /// B[from, to] in catalogue indices: how much a history holding <paramref name="from"/> adds to the score of
    /// <paramref name="to"/>. 0 on the diagonal and for items out of range or without interactions.
    /// </summary>
    public float Weight(int from, int to)
    {
        if ((uint)from >= (uint)ItemCount || (uint)to >= (uint)ItemCount)
        {
            return 0f;
        }

        var a = _compact[from];
        var b = _compact[to];
        return a < 0 || b < 0 ? 0f : _weights[((long)a * _items.Length) + b];
    }

    /// <summary>
    /// Scores every item by Σ_h x_h · B[h, j] over the distinct items h of the history (x_h = 1, or the summed event
    /// weight when not <see cref="Binary"/>, where items whose sum is not positive are skipped). History items are
    /// scored too (from the other history items; B_hh = 0): leave them out with the exclude list of TopK. Items
    /// without interactions get −∞. Events without an item and items out of range are ignored.
    /// </summary>
    /// <returns>False when no history item has a row in B (empty history, unknown or new items only).</returns>
    /// <exception cref="ArgumentException"><paramref name="scores"/> is not <see cref="ItemCount"/> long.</exception>
    public bool Score(in UserHistory user, Span<float> scores)
    {
        if (scores.Length != ItemCount)
        {
            throw new ArgumentException($"Expected {ItemCount} scores, got {scores.Length}.", nameof(scores));
        }

        scores.Fill(float.NegativeInfinity);
        if (user.IsEmpty || _items.Length == 0)
        {
            return false;
        }

        var n = _items.Length;
        var dense = n == ItemCount;
        var rented = dense ? null : ArrayPool<float>.Shared.Rent(n);
        try
        {
            var sums = dense ? scores : rented.AsSpan(0, n);
            sums.Clear();
            var (items, weights) = user.DistinctItems();
            var any = false;
            for (var h = 0; h < items.Length; h++)
            {
                var c = (uint)items[h] < (uint)ItemCount ? _compact[items[h]] : -1;
                var x = Binary ? 1f : weights[h];
                if (c < 0 || !(x > 0f))
                {
                    continue;
                }

                TensorPrimitives.MultiplyAdd(Row(c), x, sums, sums);
                any = true;
            }

            if (!any)
            {
                scores.Fill(float.NegativeInfinity);
                return false;
            }

            if (!dense)
            {
                for (var c = 0; c < n; c++)
                {
                    scores[_items[c]] = sums[c];
                }
            }

            return true;
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<float>.Shared.Return(rented);
            }
        }
    }

    /// <summary>
    /// The <paramref name="k"/> largest weights of the item's row of B (the items its presence in a history pushes
    /// up most), best first, without the item itself. When k exceeds the positively weighted items the list goes on
    /// with zero and negative weights. Empty for k ≤ 0, an index out of range, or an item without interactions.
    /// </summary>
    public IReadOnlyList<ScoredItem> Similar(int item, int k)
    {
        if ((uint)item >= (uint)ItemCount || k <= 0)
        {
            return [];
        }

        var c = _compact[item];
        if (c < 0)
        {
            return [];
        }

        var n = _items.Length;
        var buffer = ArrayPool<float>.Shared.Rent(n);
        try
        {
            var row = buffer.AsSpan(0, n);
            Row(c).CopyTo(row);
            row[c] = float.NegativeInfinity;
            var best = TopKSelector.Select(row, Math.Min(k, n));
            for (var t = 0; t < best.Length; t++)
            {
                best[t] = best[t] with { Item = _items[best[t].Item] };
            }

            return best;
        }
        finally
        {
            ArrayPool<float>.Shared.Return(buffer);
        }
    }

    /// <summary>Writes the model (the dense B included: 4 · n² bytes for n modelled items).</summary>
    public void Save(Stream stream)
    {
        using var w = new ArtifactWriter(stream, Kind, FormatVersion, ItemCount);
        w.Write(Lambda);
        w.Write(Binary);
        w.WriteArray<int>(_items);
        w.WriteArray<float>(_weights);
    }

    /// <exception cref="InvalidDataException">Not an EASE artifact, another version, truncated or inconsistent.</exception>
    public static EaseModel Load(Stream stream)
    {
        using var r = new ArtifactReader(stream, Kind, FormatVersion);
        var lambda = r.ReadSingle();
        var binary = r.ReadBoolean();
        var items = r.ReadArray<int>();
        var weights = r.ReadArray<float>();
        if (weights.LongLength != (long)items.Length * items.Length)
        {
            throw new InvalidDataException($"The EASE artifact has {weights.LongLength} weights for {items.Length} items.");
        }

        for (var c = 0; c < items.Length; c++)
        {
            if ((uint)items[c] >= (uint)r.ItemCount || (c > 0 && items[c] <= items[c - 1]))
            {
                throw new InvalidDataException("The EASE artifact's item list is not increasing within the catalogue.");
            }
        }

        return new EaseModel(r.ItemCount, items, weights, lambda, binary, default);
    }

    private ReadOnlySpan<float> Row(int c) => _weights.AsSpan(c * _items.Length, _items.Length);

    // Lower triangle of XᵀX + λI, one row per item and thread: row a of G is itself the dense accumulator of
    // Σ_u x_ua · x_u·, so no other scratch is needed. Users' items are sorted, so each user's list is cut at item a.
    private static void BuildGram(UserItemMatrix matrix, EaseOptions options, int[] items, int[] compact, float[] g, ParallelOptions parallel)
    {
        var n = items.Length;
        var binary = options.Binary;
        var lambda = options.Lambda;
        Parallel.For(0, n, parallel, a =>
        {
            var item = items[a];
            var row = g.AsSpan(a * n, a + 1);
            row.Clear();
            var users = matrix.UsersOf(item);
            var values = matrix.ItemValuesOf(item);
            for (var p = 0; p < users.Length; p++)
            {
                var theirs = matrix.ItemsOf(users[p]);
                var theirValues = matrix.ValuesOf(users[p]);
                var x = binary ? 1f : values[p];
                for (var q = 0; q < theirs.Length; q++)
                {
                    var j = theirs[q];
                    if (j > item)
                    {
                        break;
                    }

                    row[compact[j]] += binary ? 1f : x * theirValues[q];
                }
            }

            row[a] += lambda;
        });
    }

    // P → B in place: B_ij = −P_ij / P_jj, B_ii = 0.
    private static void ToWeights(float[] p, int n, ParallelOptions parallel)
    {
        if (n == 0)
        {
            return;
        }

        var scale = new float[n];
        for (var j = 0; j < n; j++)
        {
            scale[j] = -1f / p[((long)j * n) + j];
        }

        Parallel.For(0, n, parallel, i =>
        {
            var row = p.AsSpan(i * n, n);
            TensorPrimitives.Multiply(row, scale, row);
            row[i] = 0f;
        });
    }
}
