using System.Buffers;
using System.Diagnostics;
using System.Numerics.Tensors;
using Ranking.Data;

namespace Ranking.Candidates;

/// <summary>
/// Settings of <see cref="AlsModel"/>: the implicit-feedback model of Hu, Koren and Volinsky (2008), solved with the
/// conjugate-gradient updates of Takács, Pilászy and Tikk (2011).
/// </summary>
/// <remarks>
/// Each observed (user, item) pair has preference 1 and confidence <c>1 + Alpha · v</c>, where v is the pair's summed
/// event weight (<see cref="UserItemMatrix"/>), or <c>1 + Alpha · ln(1 + v)</c> with <see cref="LogConfidence"/>;
/// every other pair has preference 0 and confidence 1. The defaults are starting points, not tuned values.
/// </remarks>
public sealed record AlsOptions
{
    /// <summary>Largest accepted <see cref="Factors"/>: the per-row solve keeps a Factors² Gram matrix.</summary>
    public const int MaxFactors = 1024;

    /// <summary>Length of each user and item vector. Default 64; 1 to <see cref="MaxFactors"/>.</summary>
    public int Factors { get; init; } = 64;

    /// <summary>Full sweeps (users, then items). Default 15; at least 1.</summary>
    public int Iterations { get; init; } = 15;

    /// <summary>
    /// λ of the objective, added to the diagonal of the Gram matrix and not scaled by a row's number of interactions
    /// (as in the <c>implicit</c> library). Default 0.01; finite and ≥ 0 (0 may leave fold-in without a solution).
    /// </summary>
    public double Regularization { get; init; } = 0.01;

    /// <summary>
    /// Confidence scale α: an observed pair weighs <c>1 + α · v</c>. Default 10 (event weights are 1 to 5 per event,
    /// so a single order counts about 50 times an unobserved pair); finite and &gt; 0.
    /// </summary>
    public double Alpha { get; init; } = 10;

    /// <summary>Use <c>1 + α · ln(1 + v)</c> instead of <c>1 + α · v</c>, damping users who repeat one item many times. Default false.</summary>
    public bool LogConfidence { get; init; }

    /// <summary>Conjugate-gradient steps per row and half-iteration, warm-started from the current vector. Default 3; at least 1.
    /// With <see cref="Factors"/> steps each row solve is exact up to rounding.</summary>
    public int CgSteps { get; init; } = 3;

    /// <summary>Seed of the random initial factors; the same seed and data give the same model on any number of threads.</summary>
    public int Seed { get; init; } = 42;

    /// <summary>Compute the full objective after every iteration for the progress reports (costs about one
    /// half-iteration's worth of dot products). Default false.</summary>
    public bool ComputeLoss { get; init; }

    /// <summary>Threads for training and the loss: -1 (default) for all cores, else at least 1.</summary>
    public int MaxDegreeOfParallelism { get; init; } = -1;

    /// <summary>Checks every setting.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of its documented range.</exception>
    public void Validate()
    {
        if (Factors is < 1 or > MaxFactors)
        {
            throw new ArgumentOutOfRangeException(nameof(Factors), Factors, $"Factors must be between 1 and {MaxFactors}.");
        }

        if (Iterations < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(Iterations), Iterations, "Iterations must be at least 1.");
        }

        if (!double.IsFinite(Regularization) || Regularization < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(Regularization), Regularization, "Regularization must be finite and >= 0.");
        }

        if (!double.IsFinite(Alpha) || Alpha <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(Alpha), Alpha, "Alpha (the confidence scale) must be finite and > 0.");
        }

        if (CgSteps < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(CgSteps), CgSteps, "CgSteps must be at least 1.");
        }

        if (MaxDegreeOfParallelism is 0 or < -1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxDegreeOfParallelism), MaxDegreeOfParallelism, "MaxDegreeOfParallelism must be -1 (all cores) or at least 1.");
        }
    }
}

/// <summary>One finished ALS iteration.</summary>
/// <param name="Iteration">1-based.</param>
/// <param name="Seconds">Wall time of the two half-iterations, without the loss.</param>
/// <param name="Loss">The full objective after the iteration (see <see cref="AlsModel.Loss"/>); null unless
/// <see cref="AlsOptions.ComputeLoss"/> is set.</param>
public readonly record struct AlsIteration(int Iteration, double Seconds, double? Loss);

/// <summary>
/// Implicit-feedback matrix factorisation (weighted ALS, Hu–Koren–Volinsky) trained with conjugate-gradient row
/// updates: a user's score for an item is the dot product of their vectors.
/// </summary>
/// <remarks>
/// <para>Training alternates users and items. Each half-iteration computes the Gram matrix of the fixed side
/// (<c>YᵀY + λI</c>) once, then runs <see cref="AlsOptions.CgSteps"/> conjugate-gradient steps per row from its
/// current vector, touching only that row's interactions — O(nnz · f + rows · f²) per step. Rows are solved in
/// parallel, each reading only the other side, so the result does not depend on the thread count or scheduling.</para>
/// <para>Items without interactions in training (degree 0) are never recommended: they score −∞ and have no
/// similar items. A user without interactions in training is treated like an unknown one.</para>
/// </remarks>
public sealed class AlsModel : ICandidateGenerator, IItemSimilarity
{
    private const string ArtifactKind = "als";
    private const int ArtifactVersion = 1;

    // Rows per parallel work item: small enough to balance heavy-tailed degrees over 2-16 cores, large enough to
    // keep the delegate overhead negligible next to a 64-factor solve.
    private const int RowBlock = 64;

    // Rows per block of the Gram matrix. Fixed (not per thread) so that the partial sums, added in block order,
    // give the same matrix on any number of threads.
    private const int GramBlock = 1024;

    // Squared residual norm below which a row counts as solved.
    private const float ResidualTolerance = 1e-20f;

    private readonly float[] _userFactors;
    private readonly float[] _itemFactors;
    private readonly int[] _userDegree;
    private readonly int[] _itemDegree;
    private double[]? _itemGram;
    private float[]? _itemNorms;

    private AlsModel(AlsOptions options, int userCount, int itemCount, float[] userFactors, float[] itemFactors, int[] userDegree, int[] itemDegree)
    {
        Options = options;
        UserCount = userCount;
        ItemCount = itemCount;
        _userFactors = userFactors;
        _itemFactors = itemFactors;
        _userDegree = userDegree;
        _itemDegree = itemDegree;
    }

    public string Name => "als";

    /// <summary>The settings the model was trained with.</summary>
    public AlsOptions Options { get; }

    /// <summary>Length of every user and item vector.</summary>
    public int Factors => Options.Factors;

    public int UserCount { get; }

    public int ItemCount { get; }

    /// <summary>All user vectors, row-major: user u is <c>[u · Factors, (u + 1) · Factors)</c>.</summary>
    public ReadOnlyMemory<float> UserFactors => _userFactors;

    /// <summary>All item vectors, row-major: item i is <c>[i · Factors, (i + 1) · Factors)</c>.</summary>
    public ReadOnlyMemory<float> ItemFactors => _itemFactors;

    /// <summary>The vector of one user (near zero for a user without training interactions).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="user"/> is not in <c>[0, UserCount)</c>.</exception>
    public ReadOnlySpan<float> UserVector(int user)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)user, (uint)UserCount, nameof(user));
        return _userFactors.AsSpan(user * Factors, Factors);
    }

    /// <summary>The vector of one item (near zero for an item without training interactions).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="item"/> is not in <c>[0, ItemCount)</c>.</exception>
    public ReadOnlySpan<float> ItemVector(int item)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)item, (uint)ItemCount, nameof(item));
        return _itemFactors.AsSpan(item * Factors, Factors);
    }

    /// <summary>Number of distinct items the user interacted with in training; 0 for an index out of range.</summary>
    public int UserDegree(int user) => (uint)user < (uint)UserCount ? _userDegree[user] : 0;

    /// <summary>Number of distinct users who interacted with the item in training; 0 for an index out of range.</summary>
    public int ItemDegree(int item) => (uint)item < (uint)ItemCount ? _itemDegree[item] : 0;

    /// <summary>
    /// The predicted preference <c>x_u · y_i</c> of a trained user for a trained item; NaN when either index is out
    /// of range or had no interactions in training.
    /// </summary>
    public float Affinity(int user, int item)
    {
        if (UserDegree(user) == 0 || ItemDegree(item) == 0)
        {
            return float.NaN;
        }

        return TensorPrimitives.Dot(_userFactors.AsSpan(user * Factors, Factors), _itemFactors.AsSpan(item * Factors, Factors));
    }

    /// <summary>Trains on the user–item matrix of a log (event weights summed per pair).</summary>
    /// <inheritdoc cref="Train(UserItemMatrix, AlsOptions, IProgress{AlsIteration}?, CancellationToken)"/>
    public static AlsModel Train(InteractionLog log, AlsOptions options, IProgress<AlsIteration>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(log);
        return Train(UserItemMatrix.From(log), options, progress, cancellationToken);
    }

    /// <summary>Trains a model; the same matrix and options give the same factors bit for bit.</summary>
    /// <param name="progress">Told after every iteration, on the training thread.</param>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    /// <exception cref="ArgumentException">The factor arrays would exceed the largest .NET array.</exception>
    /// <exception cref="OperationCanceledException">Cancelled; checked between blocks of rows.</exception>
    public static AlsModel Train(UserItemMatrix matrix, AlsOptions options, IProgress<AlsIteration>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(matrix);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var f = options.Factors;
        if ((long)matrix.UserCount * f > Array.MaxLength || (long)matrix.ItemCount * f > Array.MaxLength)
        {
            throw new ArgumentException($"{matrix.UserCount} users or {matrix.ItemCount} items at {f} factors exceed the largest array.", nameof(matrix));
        }

        var users = new float[matrix.UserCount * f];
        var items = new float[matrix.ItemCount * f];
        var random = new Random(options.Seed);
        FillGaussian(users, random, 0.01);
        FillGaussian(items, random, 0.01);

        var confidence = new ConfidenceScale(options);
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = options.MaxDegreeOfParallelism, CancellationToken = cancellationToken };
        var gram = new double[f * f];
        var regularized = new float[f * f];
        var clock = new Stopwatch();
        for (var iteration = 1; iteration <= options.Iterations; iteration++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            clock.Restart();

            ComputeGram(items, matrix.ItemCount, f, gram, parallel);
            Regularize(gram, f, options.Regularization, regularized);
            SolveRows(users, items, regularized, matrix.UserCount, matrix.UserOffsets, matrix.UserItems, matrix.UserValues, f, confidence, options.CgSteps, parallel);

            ComputeGram(users, matrix.UserCount, f, gram, parallel);
            Regularize(gram, f, options.Regularization, regularized);
            SolveRows(items, users, regularized, matrix.ItemCount, matrix.ItemOffsets, matrix.ItemUsers, matrix.ItemValues, f, confidence, options.CgSteps, parallel);

            var seconds = clock.Elapsed.TotalSeconds;
            double? loss = options.ComputeLoss ? ComputeLoss(users, items, f, matrix, confidence, options.Regularization, parallel) : null;
            progress?.Report(new AlsIteration(iteration, seconds, loss));
        }

        return new AlsModel(options, matrix.UserCount, matrix.ItemCount, users, items, Degrees(matrix.UserOffsets), Degrees(matrix.ItemOffsets));
    }

    /// <summary>
    /// The full objective on a matrix: <c>Σ_{u,i} c_ui (p_ui − x_u·y_i)² + λ(‖X‖² + ‖Y‖²)</c> over all user–item
    /// pairs, observed or not, with the model's confidence settings. Computed as <c>Σ_u x_uᵀ(YᵀY)x_u</c> plus a
    /// correction per observed pair, in double precision.
    /// </summary>
    /// <exception cref="ArgumentException">The matrix has another number of users or items than the model.</exception>
    public double Loss(UserItemMatrix matrix)
    {
        ArgumentNullException.ThrowIfNull(matrix);
        if (matrix.UserCount != UserCount || matrix.ItemCount != ItemCount)
        {
            throw new ArgumentException($"The matrix is {matrix.UserCount} x {matrix.ItemCount}; the model is {UserCount} x {ItemCount}.", nameof(matrix));
        }

        var parallel = new ParallelOptions { MaxDegreeOfParallelism = Options.MaxDegreeOfParallelism };
        return ComputeLoss(_userFactors, _itemFactors, Factors, matrix, new ConfidenceScale(Options), Options.Regularization, parallel);
    }

    /// <summary>
    /// Scores every item for a user: <c>x_u · y_i</c> for a user trained with at least one interaction; otherwise
    /// her history is folded in (see <see cref="FoldIn"/>) and the folded vector is used. Items without training
    /// interactions get −∞. A trained user's newer history is not read.
    /// </summary>
    /// <returns>False when the user is unknown (or had no training interactions) and her history names no trained item.</returns>
    /// <exception cref="ArgumentException"><paramref name="scores"/> is not <see cref="ItemCount"/> long.</exception>
    public bool Score(in UserHistory user, Span<float> scores)
    {
        if (scores.Length != ItemCount)
        {
            throw new ArgumentException($"Expected {ItemCount} scores, got {scores.Length}.", nameof(scores));
        }

        if (UserDegree(user.User) > 0)
        {
            ScoreVector(_userFactors.AsSpan(user.User * Factors, Factors), scores);
            return true;
        }

        var buffer = ArrayPool<float>.Shared.Rent(Factors);
        try
        {
            var vector = buffer.AsSpan(0, Factors);
            if (!FoldIn(user, vector))
            {
                return false;
            }

            ScoreVector(vector, scores);
            return true;
        }
        finally
        {
            ArrayPool<float>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Solves a user vector from a history against the fixed item vectors, exactly (a Cholesky solve of the same
    /// normal equations training uses): the way to score a user who arrived after training. The history's weights
    /// are summed per item like <see cref="UserItemMatrix"/> does; events without an item, items out of range or
    /// without training interactions, and pairs whose weights sum to ≤ 0 are left out. <see cref="UserHistory.User"/> is not read.
    /// </summary>
    /// <returns>False, leaving <paramref name="vector"/> undefined, when nothing of the history is usable or the
    /// system is singular (only possible with <see cref="AlsOptions.Regularization"/> 0).</returns>
    /// <exception cref="ArgumentException"><paramref name="vector"/> is not <see cref="Factors"/> long.</exception>
    public bool FoldIn(in UserHistory history, Span<float> vector)
    {
        var f = Factors;
        if (vector.Length != f)
        {
            throw new ArgumentException($"Expected a vector of {f} factors, got {vector.Length}.", nameof(vector));
        }

        var n = history.Items.Length;
        if (n == 0)
        {
            return false;
        }

        var keys = ArrayPool<int>.Shared.Rent(n);
        var weights = ArrayPool<float>.Shared.Rent(n);
        var system = ArrayPool<double>.Shared.Rent((f * f) + (2 * f));
        try
        {
            var count = 0;
            var items = history.Items.Span;
            var w = history.Weights.Span;
            for (var k = 0; k < n; k++)
            {
                if (ItemDegree(items[k]) > 0 && float.IsFinite(w[k]))
                {
                    keys[count] = items[k];
                    weights[count] = w[k];
                    count++;
                }
            }

            Array.Sort(keys, weights, 0, count);
            var a = system.AsSpan(0, f * f);
            var b = system.AsSpan(f * f, f);
            var yd = system.AsSpan((f * f) + f, f);
            ItemGram().CopyTo(a);
            for (var j = 0; j < f; j++)
            {
                a[(j * f) + j] += Options.Regularization;
            }

            b.Clear();
            var confidence = new ConfidenceScale(Options);
            var pairs = 0;
            var start = 0;
            while (start < count)
            {
                var end = start;
                var sum = 0f;
                while (end < count && keys[end] == keys[start])
                {
                    sum += weights[end++];
                }

                if (sum > 0)
                {
                    double extra = confidence.Extra(sum);
                    var y = _itemFactors.AsSpan(keys[start] * f, f);
                    for (var j = 0; j < f; j++)
                    {
                        yd[j] = y[j];
                    }

                    // A += c'·y yᵀ, b += (1 + c')·y.
                    for (var j = 0; j < f; j++)
                    {
                        var row = a.Slice(j * f, f);
                        TensorPrimitives.MultiplyAdd<double>(yd, extra * yd[j], row, row);
                    }

                    TensorPrimitives.MultiplyAdd<double>(yd, 1 + extra, b, b);

                    pairs++;
                }

                start = end;
            }

            if (pairs == 0 || !CholeskySolve(a, b, f))
            {
                return false;
            }

            for (var j = 0; j < f; j++)
            {
                vector[j] = (float)b[j];
            }

            return true;
        }
        finally
        {
            ArrayPool<int>.Shared.Return(keys);
            ArrayPool<float>.Shared.Return(weights);
            ArrayPool<double>.Shared.Return(system);
        }
    }

    /// <summary>
    /// The <paramref name="k"/> items whose vectors have the highest cosine with the item's, best first, without the
    /// item itself and without items lacking training interactions. Empty when <paramref name="k"/> is 0 or the item
    /// is out of range, had no training interactions, or has a zero vector.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="k"/> is negative.</exception>
    public IReadOnlyList<ScoredItem> Similar(int item, int k)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        if (k == 0 || ItemDegree(item) == 0)
        {
            return [];
        }

        var norms = ItemNorms();
        if (norms[item] == 0)
        {
            return [];
        }

        var f = Factors;
        var y = _itemFactors.AsSpan(item * f, f);
        var buffer = ArrayPool<float>.Shared.Rent(ItemCount);
        try
        {
            var scores = buffer.AsSpan(0, ItemCount);
            for (var j = 0; j < scores.Length; j++)
            {
                scores[j] = j != item && _itemDegree[j] > 0 && norms[j] > 0
                    ? TensorPrimitives.Dot(_itemFactors.AsSpan(j * f, f), y) / (norms[j] * norms[item])
                    : float.NegativeInfinity;
            }

            return TopKSelector.Select(scores, k);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(buffer);
        }
    }

    /// <summary>Writes the model as an artifact of kind "als", version 1: options, both factor arrays and the degrees.</summary>
    public void Save(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var writer = new ArtifactWriter(stream, ArtifactKind, ArtifactVersion, ItemCount);
        writer.Write(Options.Factors);
        writer.Write(Options.Iterations);
        writer.Write(Options.Regularization);
        writer.Write(Options.Alpha);
        writer.Write(Options.LogConfidence);
        writer.Write(Options.CgSteps);
        writer.Write(Options.Seed);
        writer.Write(UserCount);
        writer.WriteArray<float>(_userFactors);
        writer.WriteArray<float>(_itemFactors);
        writer.WriteArray<int>(_userDegree);
        writer.WriteArray<int>(_itemDegree);
    }

    /// <summary>Reads a model written by <see cref="Save"/>.</summary>
    /// <exception cref="InvalidDataException">Not an "als" version 1 artifact, truncated, or inconsistent.</exception>
    public static AlsModel Load(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var reader = new ArtifactReader(stream, ArtifactKind, ArtifactVersion);
        var itemCount = reader.ItemCount;
        var options = new AlsOptions
        {
            Factors = reader.ReadInt32(),
            Iterations = reader.ReadInt32(),
            Regularization = reader.ReadDouble(),
            Alpha = reader.ReadDouble(),
            LogConfidence = reader.ReadBoolean(),
            CgSteps = reader.ReadInt32(),
            Seed = reader.ReadInt32(),
        };
        try
        {
            options.Validate();
        }
        catch (ArgumentOutOfRangeException e)
        {
            throw new InvalidDataException("The ALS artifact holds invalid options.", e);
        }

        var userCount = reader.ReadInt32();
        var users = reader.ReadArray<float>();
        var items = reader.ReadArray<float>();
        var userDegree = reader.ReadArray<int>();
        var itemDegree = reader.ReadArray<int>();
        var f = options.Factors;
        if (userCount < 0 || users.Length != (long)userCount * f || items.Length != (long)itemCount * f
            || userDegree.Length != userCount || itemDegree.Length != itemCount)
        {
            throw new InvalidDataException("The ALS artifact's arrays do not match its user count, item count and factors.");
        }

        return new AlsModel(options, userCount, itemCount, users, items, userDegree, itemDegree);
    }

    /// <summary>
    /// Conjugate-gradient steps on one row's normal equations <c>(G + Σ c'_k y_k y_kᵀ) x = Σ (1 + c'_k) y_k</c>, where
    /// G is the regularised Gram matrix of the other side and c'_k = confidence − 1; x is updated in place.
    /// </summary>
    /// <param name="scratch">At least 3 · f floats.</param>
    internal static void ConjugateGradient(
        Span<float> x, ReadOnlySpan<float> gram, ReadOnlySpan<float> other, ReadOnlySpan<int> indices, ReadOnlySpan<float> values,
        in ConfidenceScale confidence, int steps, Span<float> scratch)
    {
        var f = x.Length;
        var r = scratch[..f];
        var p = scratch.Slice(f, f);
        var ap = scratch.Slice(2 * f, f);

        // r = b − A x, with A x = G x + Σ c'·(y·x)·y and b = Σ (1 + c')·y.
        MultiplySymmetric(gram, x, r);
        TensorPrimitives.Negate(r, r);
        for (var k = 0; k < indices.Length; k++)
        {
            var y = other.Slice(indices[k] * f, f);
            var extra = confidence.Extra(values[k]);
            TensorPrimitives.MultiplyAdd(y, 1 + extra - (extra * TensorPrimitives.Dot(y, x)), r, r);
        }

        r.CopyTo(p);
        var rs = TensorPrimitives.Dot(r, r);
        for (var step = 0; step < steps && rs > ResidualTolerance; step++)
        {
            MultiplySymmetric(gram, p, ap);
            for (var k = 0; k < indices.Length; k++)
            {
                var y = other.Slice(indices[k] * f, f);
                TensorPrimitives.MultiplyAdd(y, confidence.Extra(values[k]) * TensorPrimitives.Dot(y, p), ap, ap);
            }

            var curvature = TensorPrimitives.Dot(p, ap);
            if (!(curvature > 0))
            {
                return;
            }

            var a = rs / curvature;
            TensorPrimitives.MultiplyAdd(p, a, x, x);
            TensorPrimitives.MultiplyAdd(ap, -a, r, r);
            var rsNext = TensorPrimitives.Dot(r, r);
            TensorPrimitives.MultiplyAdd(p, rsNext / rs, r, p);
            rs = rsNext;
        }
    }

    private static void SolveRows(
        float[] target, float[] other, float[] gram, int rows, int[] offsets, int[] indices, float[] values, int f,
        ConfidenceScale confidence, int steps, ParallelOptions parallel)
    {
        var blocks = (rows + RowBlock - 1) / RowBlock;
        Parallel.For(
            0,
            blocks,
            parallel,
            () => new float[3 * f],
            (block, _, scratch) =>
            {
                var end = Math.Min(rows, (block + 1) * RowBlock);
                for (var row = block * RowBlock; row < end; row++)
                {
                    var start = offsets[row];
                    var length = offsets[row + 1] - start;
                    ConjugateGradient(
                        target.AsSpan(row * f, f), gram, other, indices.AsSpan(start, length), values.AsSpan(start, length),
                        confidence, steps, scratch);
                }

                return scratch;
            },
            static _ => { });
    }

    // gram (f × f, symmetric) = Σ_rows v vᵀ. Each block of rows is transposed into columns so that every entry is
    // one long dot product; block sums are added in block order in double.
    private static void ComputeGram(float[] factors, int rows, int f, double[] gram, ParallelOptions parallel)
    {
        var blocks = (rows + GramBlock - 1) / GramBlock;
        var partial = new float[blocks * f * f];
        Parallel.For(
            0,
            blocks,
            parallel,
            () => new float[f * GramBlock],
            (block, _, columns) =>
            {
                var start = block * GramBlock;
                var count = Math.Min(GramBlock, rows - start);
                for (var r = 0; r < count; r++)
                {
                    var row = factors.AsSpan((start + r) * f, f);
                    for (var j = 0; j < f; j++)
                    {
                        columns[(j * count) + r] = row[j];
                    }
                }

                var g = partial.AsSpan(block * f * f, f * f);
                for (var j = 0; j < f; j++)
                {
                    var cj = columns.AsSpan(j * count, count);
                    for (var k = j; k < f; k++)
                    {
                        g[(j * f) + k] = TensorPrimitives.Dot(cj, columns.AsSpan(k * count, count));
                    }
                }

                return columns;
            },
            static _ => { });

        Array.Clear(gram);
        for (var block = 0; block < blocks; block++)
        {
            var g = partial.AsSpan(block * f * f, f * f);
            for (var j = 0; j < f; j++)
            {
                for (var k = j; k < f; k++)
                {
                    gram[(j * f) + k] += g[(j * f) + k];
                }
            }
        }

        for (var j = 0; j < f; j++)
        {
            for (var k = j + 1; k < f; k++)
            {
                gram[(k * f) + j] = gram[(j * f) + k];
            }
        }
    }

    private static void Regularize(double[] gram, int f, double regularization, float[] destination)
    {
        for (var e = 0; e < gram.Length; e++)
        {
            destination[e] = (float)gram[e];
        }

        for (var j = 0; j < f; j++)
        {
            destination[(j * f) + j] = (float)(gram[(j * f) + j] + regularization);
        }
    }

    private static void MultiplySymmetric(ReadOnlySpan<float> matrix, ReadOnlySpan<float> vector, Span<float> destination)
    {
        var f = vector.Length;
        for (var j = 0; j < f; j++)
        {
            destination[j] = TensorPrimitives.Dot(matrix.Slice(j * f, f), vector);
        }
    }

    private static double ComputeLoss(float[] users, float[] items, int f, UserItemMatrix matrix, ConfidenceScale confidence, double regularization, ParallelOptions parallel)
    {
        var gram = new double[f * f];
        ComputeGram(items, matrix.ItemCount, f, gram, parallel);
        var rows = matrix.UserCount;
        var blocks = (rows + RowBlock - 1) / RowBlock;
        var partial = new double[blocks];
        Parallel.For(
            0,
            blocks,
            parallel,
            () => new double[f],
            (block, _, xd) =>
            {
                var sum = 0.0;
                var end = Math.Min(rows, (block + 1) * RowBlock);
                for (var u = block * RowBlock; u < end; u++)
                {
                    var x = users.AsSpan(u * f, f);
                    for (var j = 0; j < f; j++)
                    {
                        xd[j] = x[j];
                    }

                    // Every pair as if unobserved (c = 1, p = 0): x_uᵀ (YᵀY) x_u, plus λ‖x_u‖².
                    var norm = TensorPrimitives.Dot<double>(xd, xd);
                    for (var j = 0; j < f; j++)
                    {
                        sum += xd[j] * TensorPrimitives.Dot<double>(gram.AsSpan(j * f, f), xd);
                    }

                    sum += regularization * norm;

                    // Observed pairs replace their (x·y)² term with c (1 − x·y)².
                    var start = matrix.UserOffsets[u];
                    var length = matrix.UserOffsets[u + 1] - start;
                    var columns = matrix.UserItems.AsSpan(start, length);
                    var values = matrix.UserValues.AsSpan(start, length);
                    for (var k = 0; k < columns.Length; k++)
                    {
                        var s = DotDouble(x, items.AsSpan(columns[k] * f, f));
                        var c = 1.0 + confidence.Extra(values[k]);
                        sum += (c * (1 - s) * (1 - s)) - (s * s);
                    }
                }

                partial[block] = sum;
                return xd;
            },
            static _ => { });

        var total = 0.0;
        foreach (var p in partial)
        {
            total += p;
        }

        var itemNorm = 0.0;
        foreach (var v in items)
        {
            itemNorm += (double)v * v;
        }

        return total + (regularization * itemNorm);
    }

    // The loss is reported to compare iterations whose difference can be below float precision, so its dot products
    // accumulate in double, which TensorPrimitives does not offer for float inputs.
    private static double DotDouble(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        var sum = 0.0;
        for (var k = 0; k < a.Length; k++)
        {
            sum += (double)a[k] * b[k];
        }

        return sum;
    }

    private void ScoreVector(ReadOnlySpan<float> x, Span<float> scores)
    {
        var f = Factors;
        for (var i = 0; i < scores.Length; i++)
        {
            scores[i] = _itemDegree[i] > 0 ? TensorPrimitives.Dot(_itemFactors.AsSpan(i * f, f), x) : float.NegativeInfinity;
        }
    }

    private double[] ItemGram() =>
        LazyInitializer.EnsureInitialized(ref _itemGram, () =>
        {
            var gram = new double[Factors * Factors];
            ComputeGram(_itemFactors, ItemCount, Factors, gram, new ParallelOptions { MaxDegreeOfParallelism = Options.MaxDegreeOfParallelism });
            return gram;
        });

    private float[] ItemNorms() =>
        LazyInitializer.EnsureInitialized(ref _itemNorms, () =>
        {
            var norms = new float[ItemCount];
            for (var i = 0; i < norms.Length; i++)
            {
                norms[i] = TensorPrimitives.Norm(_itemFactors.AsSpan(i * Factors, Factors));
            }

            return norms;
        });

    // Solves A z = b for a symmetric positive definite A (row-major, overwritten by its Cholesky factor L in the
    // lower triangle); z replaces b. False when A is not positive definite.
    private static bool CholeskySolve(Span<double> a, Span<double> b, int f)
    {
        for (var j = 0; j < f; j++)
        {
            var rowJ = a.Slice(j * f, j);
            var pivot = a[(j * f) + j] - TensorPrimitives.Dot<double>(rowJ, rowJ);
            if (!(pivot > 0))
            {
                return false;
            }

            var diagonal = Math.Sqrt(pivot);
            a[(j * f) + j] = diagonal;
            for (var i = j + 1; i < f; i++)
            {
                a[(i * f) + j] = (a[(i * f) + j] - TensorPrimitives.Dot<double>(a.Slice(i * f, j), rowJ)) / diagonal;
            }
        }

        // L z' = b, then Lᵀ z = z'.
        for (var i = 0; i < f; i++)
        {
            b[i] = (b[i] - TensorPrimitives.Dot<double>(a.Slice(i * f, i), b[..i])) / a[(i * f) + i];
        }

        for (var i = f - 1; i >= 0; i--)
        {
            var sum = b[i];
            for (var k = i + 1; k < f; k++)
            {
                sum -= a[(k * f) + i] * b[k];
            }

            b[i] = sum / a[(i * f) + i];
        }

        return true;
    }

    private static void FillGaussian(Span<float> values, Random random, double deviation)
    {
        // Box–Muller, two values per pair of uniforms.
        for (var k = 0; k < values.Length; k += 2)
        {
            var radius = deviation * Math.Sqrt(-2 * Math.Log(1 - random.NextDouble()));
            var angle = 2 * Math.PI * random.NextDouble();
            values[k] = (float)(radius * Math.Cos(angle));
            if (k + 1 < values.Length)
            {
                values[k + 1] = (float)(radius * Math.Sin(angle));
            }
        }
    }

    private static int[] Degrees(int[] offsets)
    {
        var degrees = new int[offsets.Length - 1];
        for (var r = 0; r < degrees.Length; r++)
        {
            degrees[r] = offsets[r + 1] - offsets[r];
        }

        return degrees;
    }
}

/// <summary>The extra confidence c − 1 of an observed pair with summed weight v: α·v, or α·ln(1 + v).</summary>
internal readonly struct ConfidenceScale(AlsOptions options)
{
    private readonly float _alpha = (float)options.Alpha;
    private readonly bool _log = options.LogConfidence;

    // Weights are positive in a UserItemMatrix; a non-positive one adds no confidence (keeps the system definite).
    public float Extra(float value) => value <= 0 ? 0f : _log ? _alpha * MathF.Log(1 + value) : _alpha * value;
}
