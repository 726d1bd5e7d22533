using Ranking.Candidates;
using Ranking.Data;
using static Ranking.Tests.Evaluation.EvaluationTestLogs;

namespace Ranking.Tests.Candidates;

/// <summary>Naive double-precision references for the dense routines and for EASE.</summary>
internal static class DenseReference
{
    /// <summary>Gauss–Jordan inverse with partial pivoting, in double, of a full row-major n × n matrix.</summary>
    public static double[] Invert(double[] matrix, int n)
    {
        var a = (double[])matrix.Clone();
        var inv = new double[n * n];
        for (var i = 0; i < n; i++)
        {
            inv[(i * n) + i] = 1;
        }

        for (var col = 0; col < n; col++)
        {
            var pivot = col;
            for (var r = col + 1; r < n; r++)
            {
                if (Math.Abs(a[(r * n) + col]) > Math.Abs(a[(pivot * n) + col]))
                {
                    pivot = r;
                }
            }

            for (var c = 0; c < n; c++)
            {
                (a[(col * n) + c], a[(pivot * n) + c]) = (a[(pivot * n) + c], a[(col * n) + c]);
                (inv[(col * n) + c], inv[(pivot * n) + c]) = (inv[(pivot * n) + c], inv[(col * n) + c]);
            }

            var scale = 1 / a[(col * n) + col];
            for (var c = 0; c < n; c++)
            {
                a[(col * n) + c] *= scale;
                inv[(col * n) + c] *= scale;
            }

            for (var r = 0; r < n; r++)
            {
                var factor = a[(r * n) + col];
                if (r == col || factor == 0)
                {
                    continue;
                }

                for (var c = 0; c < n; c++)
                {
                    a[(r * n) + c] -= factor * a[(col * n) + c];
                    inv[(r * n) + c] -= factor * inv[(col * n) + c];
                }
            }
        }

        return inv;
    }

    /// <summary>R·Rᵀ/n + shift·I for R uniform in [-1, 1]: eigenvalues in about [shift, 4/3 + shift].</summary>
    public static double[] RandomSpd(int n, double shift, int seed)
    {
        var random = new Random(seed);
        var r = new double[n * n];
        for (var i = 0; i < r.Length; i++)
        {
            r[i] = (random.NextDouble() * 2) - 1;
        }

        var g = new double[n * n];
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j <= i; j++)
            {
                var sum = 0.0;
                for (var p = 0; p < n; p++)
                {
                    sum += r[(i * n) + p] * r[(j * n) + p];
                }

                g[(i * n) + j] = g[(j * n) + i] = (sum / n) + (i == j ? shift : 0);
            }
        }

        return g;
    }

    /// <summary>EASE weights from a dense user × item matrix: P = (XᵀX + λI)⁻¹, B_ij = −P_ij / P_jj, B_jj = 0.</summary>
    public static double[] EaseWeights(double[,] x, double lambda)
    {
        var users = x.GetLength(0);
        var n = x.GetLength(1);
        var g = new double[n * n];
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j < n; j++)
            {
                var sum = i == j ? lambda : 0.0;
                for (var u = 0; u < users; u++)
                {
                    sum += x[u, i] * x[u, j];
                }

                g[(i * n) + j] = sum;
            }
        }

        var p = Invert(g, n);
        var b = new double[n * n];
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j < n; j++)
            {
                b[(i * n) + j] = i == j ? 0 : -p[(i * n) + j] / p[(j * n) + j];
            }
        }

        return b;
    }

    public static double MaxAbs(ReadOnlySpan<double> values)
    {
        var max = 0.0;
        foreach (var v in values)
        {
            max = Math.Max(max, Math.Abs(v));
        }

        return max;
    }
}

public sealed class DenseSpdTests
{
    public static TheoryData<string, int, int> InverseCases()
    {
        var data = new TheoryData<string, int, int>();
        foreach (var kernel in Enum.GetValues<DenseKernel>())
        {
            if (!DenseSpd.IsSupported(kernel))
            {
                continue;
            }

            foreach (var n in new[] { 1, 7, 130, 300 })
            {
                data.Add(kernel.ToString(), n, DenseSpd.DefaultBlockSize);
                data.Add(kernel.ToString(), n, 32);
            }
        }

        return data;
    }

    public static TheoryData<string> Kernels()
    {
        var data = new TheoryData<string>();
        foreach (var kernel in Enum.GetValues<DenseKernel>())
        {
            if (DenseSpd.IsSupported(kernel))
            {
                data.Add(kernel.ToString());
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(InverseCases))]
    public void InvertInPlace_random_spd_matches_double_gauss_jordan(string kernelName, int n, int blockSize)
    {
        var kernel = Enum.Parse<DenseKernel>(kernelName);
        // Condition number about 1,300: the smallest eigenvalue is near the 0.001 shift.
        var g = DenseReference.RandomSpd(n, 0.001, seed: n);
        var reference = DenseReference.Invert(g, n);
        var matrix = Array.ConvertAll(g, v => (float)v);

        DenseSpd.InvertInPlace(matrix, n, kernel, blockSize, -1, CancellationToken.None);

        var scale = DenseReference.MaxAbs(reference);
        var error = 0.0;
        for (var i = 0; i < matrix.Length; i++)
        {
            error = Math.Max(error, Math.Abs(matrix[i] - reference[i]));
        }

        Assert.True(error <= 5e-5 * scale, $"max |P − P_ref| = {error:G3}, max |P_ref| = {scale:G3}");

        // G·P = I, in double from the float result.
        var residual = 0.0;
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j < n; j++)
            {
                var sum = 0.0;
                for (var p = 0; p < n; p++)
                {
                    sum += g[(i * n) + p] * matrix[(p * n) + j];
                }

                residual = Math.Max(residual, Math.Abs(sum - (i == j ? 1 : 0)));
            }
        }

        Assert.True(residual <= 2e-3, $"max |G·P − I| = {residual:G3}");
    }

    [Theory]
    [MemberData(nameof(Kernels))]
    public void InvertInPlace_well_conditioned_matrix_is_accurate_to_float_precision(string kernelName)
    {
        var kernel = Enum.Parse<DenseKernel>(kernelName);
        const int N = 300;
        var g = DenseReference.RandomSpd(N, 1.0, seed: 3);
        var reference = DenseReference.Invert(g, N);
        var matrix = Array.ConvertAll(g, v => (float)v);

        DenseSpd.InvertInPlace(matrix, N, kernel, 64, -1, CancellationToken.None);

        var error = 0.0;
        for (var i = 0; i < matrix.Length; i++)
        {
            error = Math.Max(error, Math.Abs(matrix[i] - reference[i]));
        }

        Assert.True(error <= 3e-6 * DenseReference.MaxAbs(reference), $"max |P − P_ref| = {error:G3}");
    }

    [Fact]
    public void InvertInPlace_reads_only_the_lower_triangle_and_returns_a_symmetric_inverse()
    {
        const int N = 70;
        var g = Array.ConvertAll(DenseReference.RandomSpd(N, 0.5, seed: 11), v => (float)v);
        var garbage = (float[])g.Clone();
        for (var i = 0; i < N; i++)
        {
            for (var j = i + 1; j < N; j++)
            {
                garbage[(i * N) + j] = float.NaN;
            }
        }

        DenseSpd.InvertInPlace(g, N, DenseSpd.BestKernel, 16, -1, CancellationToken.None);
        DenseSpd.InvertInPlace(garbage, N, DenseSpd.BestKernel, 16, -1, CancellationToken.None);

        Assert.Equal(g, garbage);
        for (var i = 0; i < N; i++)
        {
            for (var j = 0; j < i; j++)
            {
                Assert.Equal(g[(i * N) + j], g[(j * N) + i], 1e-5f * Math.Abs(g[(i * N) + j]) + 1e-6f);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Kernels))]
    public void CholeskyInPlace_factor_times_its_transpose_gives_the_matrix(string kernelName)
    {
        var kernel = Enum.Parse<DenseKernel>(kernelName);
        const int N = 130;
        var g = DenseReference.RandomSpd(N, 0.1, seed: 5);
        var l = Array.ConvertAll(g, v => (float)v);

        DenseSpd.CholeskyInPlace(l, N, kernel, 32, -1, CancellationToken.None);

        var error = 0.0;
        for (var i = 0; i < N; i++)
        {
            for (var j = 0; j < N; j++)
            {
                if (j > i)
                {
                    Assert.Equal(0f, l[(i * N) + j]);
                }

                var sum = 0.0;
                for (var p = 0; p < N; p++)
                {
                    sum += (double)l[(i * N) + p] * l[(j * N) + p];
                }

                error = Math.Max(error, Math.Abs(sum - g[(i * N) + j]));
            }
        }

        Assert.True(error < 1e-5, $"max |L·Lᵀ − G| = {error:G3}");
    }

    [Theory]
    [InlineData(1, 0)]
    [InlineData(300, 280)]
    [InlineData(300, 17)]
    public void InvertInPlace_not_positive_definite_throws_naming_the_pivot(int n, int bad)
    {
        var g = Array.ConvertAll(DenseReference.RandomSpd(n, 0.5, seed: 2), v => (float)v);
        g[(bad * n) + bad] = -1f;

        var e = Assert.Throws<ArgumentException>(() => DenseSpd.InvertInPlace(g, n));

        Assert.Contains("not positive definite", e.Message, StringComparison.Ordinal);
        Assert.Contains($"pivot {bad} ", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void InvertInPlace_nan_below_the_diagonal_throws()
    {
        const int N = 40;
        var g = Array.ConvertAll(DenseReference.RandomSpd(N, 0.5, seed: 4), v => (float)v);
        g[(33 * N) + 2] = float.NaN;

        Assert.Throws<ArgumentException>(() => DenseSpd.InvertInPlace(g, N, DenseSpd.BestKernel, 16, -1, CancellationToken.None));
    }

    [Fact]
    public void InvertInPlace_wrong_length_or_empty()
    {
        Assert.Throws<ArgumentException>(() => DenseSpd.InvertInPlace(new float[10], 3));
        DenseSpd.InvertInPlace([], 0);
        var one = new[] { 4f };
        DenseSpd.InvertInPlace(one, 1);
        Assert.Equal(0.25f, one[0]);
    }

    [Theory]
    [MemberData(nameof(Kernels))]
    public void Multiply_matches_a_scalar_reference_over_odd_shapes_and_transpositions(string kernelName)
    {
        var kernel = Enum.Parse<DenseKernel>(kernelName);
        var random = new Random(7);
        foreach (var (m, n, k) in new[] { (1, 1, 1), (7, 13, 5), (33, 65, 300), (130, 37, 70), (17, 257, 3) })
        {
            foreach (var transposeA in new[] { false, true })
            {
                foreach (var transposeB in new[] { false, true })
                {
                    var a = RandomArray(random, m * k);
                    var b = RandomArray(random, k * n);
                    var c = RandomArray(random, m * n);
                    var expected = new double[m * n];
                    for (var i = 0; i < m; i++)
                    {
                        for (var j = 0; j < n; j++)
                        {
                            var sum = 0.0;
                            for (var p = 0; p < k; p++)
                            {
                                var x = transposeA ? a[(p * m) + i] : a[(i * k) + p];
                                var y = transposeB ? b[(j * k) + p] : b[(p * n) + j];
                                sum += (double)x * y;
                            }

                            expected[(i * n) + j] = c[(i * n) + j] - (0.5 * sum);
                        }
                    }

                    DenseSpd.Multiply(a, transposeA, b, transposeB, c, m, n, k, -0.5f, false, kernel, 64);

                    for (var i = 0; i < c.Length; i++)
                    {
                        Assert.True(
                            Math.Abs(c[i] - expected[i]) <= 1e-5 * (1 + Math.Sqrt(k)),
                            $"{kernel} {m}×{n}×{k} tA={transposeA} tB={transposeB} at {i}: {c[i]} vs {expected[i]}");
                    }
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Kernels))]
    public void Multiply_lower_only_updates_the_lower_triangle_and_leaves_far_upper_entries(string kernelName)
    {
        var kernel = Enum.Parse<DenseKernel>(kernelName);
        const int N = 75;
        const int K = 19;
        var random = new Random(9);
        var a = RandomArray(random, N * K);
        var c = new float[N * N];
        Array.Fill(c, 42f);

        DenseSpd.Multiply(a, false, a, true, c, N, N, K, 1f, true, kernel, 64);

        for (var i = 0; i < N; i++)
        {
            for (var j = 0; j < N; j++)
            {
                if (j <= i)
                {
                    var sum = 0.0;
                    for (var p = 0; p < K; p++)
                    {
                        sum += (double)a[(i * K) + p] * a[(j * K) + p];
                    }

                    Assert.Equal(42 + sum, c[(i * N) + j], 1e-4);
                }
                else if (j >= i + 32)
                {
                    // Beyond the widest register tile that can straddle the diagonal nothing is written.
                    Assert.Equal(42f, c[(i * N) + j]);
                }
            }
        }
    }

    private static float[] RandomArray(Random random, int length)
    {
        var values = new float[length];
        for (var i = 0; i < length; i++)
        {
            values[i] = (float)((random.NextDouble() * 2) - 1);
        }

        return values;
    }
}

public sealed class EaseModelTests
{
    // 6 users × 5 catalogue items with interactions (i0..i4), plus i5 that nobody touched.
    private static InteractionLog TinyLog() => Build(
        6,
        ("u1", "i0", "view", 1), ("u1", "i1", "view", 2), ("u1", "i2", "cart", 3),
        ("u2", "i0", "view", 1), ("u2", "i2", "view", 2),
        ("u3", "i1", "view", 1), ("u3", "i3", "order", 2), ("u3", "i3", "view", 3),
        ("u4", "i2", "view", 1), ("u4", "i3", "view", 2), ("u4", "i4", "view", 3),
        ("u5", "i0", "view", 1), ("u5", "i4", "cart", 2), ("u5", null, "search", 3),
        ("u6", "i1", "view", 1), ("u6", "i2", "view", 2), ("u6", "i4", "view", 3));

    [Theory]
    [InlineData(true, 2f)]
    [InlineData(false, 2f)]
    [InlineData(true, 500f)]
    public void Train_tiny_log_equals_the_closed_form_in_double(bool binary, float lambda)
    {
        var log = TinyLog();
        var matrix = UserItemMatrix.From(log, binary);
        var model = EaseModel.Train(log, new EaseOptions { Lambda = lambda, Binary = binary });

        // Reference on the 5 items with interactions (catalogue indices of i0..i4).
        var items = Enumerable.Range(0, 5).Select(i => ItemIndex(log, $"i{i}")).ToArray();
        var x = new double[matrix.UserCount, items.Length];
        for (var u = 0; u < matrix.UserCount; u++)
        {
            var row = matrix.ItemsOf(u);
            for (var q = 0; q < row.Length; q++)
            {
                x[u, Array.IndexOf(items, row[q])] = binary ? 1 : matrix.ValuesOf(u)[q];
            }
        }

        var reference = DenseReference.EaseWeights(x, lambda);
        var scale = DenseReference.MaxAbs(reference);
        Assert.Equal(5, model.ModelledItemCount);
        for (var i = 0; i < items.Length; i++)
        {
            for (var j = 0; j < items.Length; j++)
            {
                Assert.Equal(reference[(i * 5) + j], model.Weight(items[i], items[j]), 1e-5 * scale);
            }
        }

        // Scoring u1 (i0 view, i1 view, i2 cart): Σ over her items of x_h · B[h, j].
        var history = UserHistory.Of(log, UserIndex(log, "u1"));
        var scores = new float[model.ItemCount];
        Assert.True(model.Score(history, scores));
        var (hItems, hWeights) = history.DistinctItems();
        for (var j = 0; j < items.Length; j++)
        {
            var expected = 0.0;
            for (var h = 0; h < hItems.Length; h++)
            {
                expected += (binary ? 1 : hWeights[h]) * reference[(Array.IndexOf(items, hItems[h]) * 5) + j];
            }

            Assert.Equal(expected, scores[items[j]], 1e-5 * scale * 8);
        }

        Assert.Equal(float.NegativeInfinity, scores[ItemIndex(log, "i5")]);
    }

    [Fact]
    public void Train_random_matrix_over_several_blocks_matches_the_reference()
    {
        // 340 items, every seventh never touched, so the compact index and more than one 256-block are exercised.
        const int Users = 400;
        const int Items = 340;
        var random = new Random(21);
        var rows = new List<(string, string?, string, int)>();
        var x = new double[Users, Items];
        for (var u = 0; u < Users; u++)
        {
            for (var t = 0; t < 12; t++)
            {
                var item = t < 4 ? random.Next(Items / 10) : random.Next(Items);
                if (item % 7 == 3)
                {
                    continue;
                }

                rows.Add(($"u{u}", $"i{item}", "view", t));
            }
        }

        var log = Build(Items, [.. rows]);
        var model = EaseModel.Train(log, new EaseOptions { Lambda = 20 });
        var active = Enumerable.Range(0, Items).Where(i => UserItemMatrix.From(log, true).ItemDegree(ItemIndex(log, $"i{i}")) > 0).ToArray();
        foreach (var (user, item, _, _) in rows)
        {
            x[int.Parse(user[1..], System.Globalization.CultureInfo.InvariantCulture), Array.IndexOf(active, int.Parse(item![1..], System.Globalization.CultureInfo.InvariantCulture))] = 1;
        }

        var reference = DenseReference.EaseWeights(Trim(x, active.Length), 20);
        var scale = DenseReference.MaxAbs(reference);
        Assert.True(active.Length > 256);
        Assert.Equal(active.Length, model.ModelledItemCount);
        for (var a = 0; a < active.Length; a++)
        {
            for (var b = 0; b < active.Length; b++)
            {
                var actual = model.Weight(ItemIndex(log, $"i{active[a]}"), ItemIndex(log, $"i{active[b]}"));
                Assert.True(Math.Abs(actual - reference[(a * active.Length) + b]) <= 1e-4 * scale, $"B[{a}, {b}] = {actual} vs {reference[(a * active.Length) + b]}");
            }
        }

        Assert.Empty(model.Similar(ItemIndex(log, "i3"), 5));
    }

    [Fact]
    public void Train_weights_have_a_zero_diagonal()
    {
        var log = TinyLog();
        var model = EaseModel.Train(log, new EaseOptions { Lambda = 1 });

        for (var i = 0; i < model.ItemCount; i++)
        {
            Assert.Equal(0f, model.Weight(i, i));
        }

        Assert.NotEqual(0f, model.Weight(ItemIndex(log, "i0"), ItemIndex(log, "i2")));
    }

    [Fact]
    public void TopK_never_returns_excluded_or_untouched_items()
    {
        var log = TinyLog();
        var model = EaseModel.Train(log, new EaseOptions { Lambda = 1 });
        var history = UserHistory.Of(log, UserIndex(log, "u2"));
        int[] exclude = [ItemIndex(log, "i0"), ItemIndex(log, "i2")];

        var all = model.TopK(history, 10);
        var top = model.TopK(history, 10, exclude);

        Assert.Contains(all, s => s.Item == exclude[0] || s.Item == exclude[1]);
        Assert.Equal(3, top.Count);
        Assert.DoesNotContain(top, s => exclude.Contains(s.Item));
        Assert.DoesNotContain(all, s => s.Item == ItemIndex(log, "i5"));
        Assert.Equal(all.Where(s => !exclude.Contains(s.Item)), top);
    }

    [Fact]
    public void Score_unknown_user_empty_or_unmodelled_history_is_false_and_TopK_empty()
    {
        var log = TinyLog();
        var model = EaseModel.Train(log);
        var i5 = ItemIndex(log, "i5");
        var untouched = new UserHistory(-1, new[] { i5, -1, 999 }, new[] { 1f, 1f, 1f }, new long[] { 1, 2, 3 });
        var scores = new float[model.ItemCount];

        Assert.False(model.Score(UserHistory.Unknown, scores));
        Assert.All(scores, s => Assert.Equal(float.NegativeInfinity, s));
        Assert.False(model.Score(untouched, scores));
        Assert.Empty(model.TopK(UserHistory.Unknown, 5));
        Assert.Empty(model.TopK(untouched, 5));
        Assert.Throws<ArgumentException>(() => model.Score(UserHistory.Unknown, new float[3]));
    }

    [Fact]
    public void Similar_is_the_row_of_B_without_the_item_and_empty_for_unknown_items()
    {
        var log = TinyLog();
        var model = EaseModel.Train(log, new EaseOptions { Lambda = 1 });
        var i0 = ItemIndex(log, "i0");

        var similar = model.Similar(i0, 10);

        Assert.Equal(4, similar.Count);
        Assert.DoesNotContain(similar, s => s.Item == i0);
        Assert.All(similar, s => Assert.Equal(model.Weight(i0, s.Item), s.Score));
        Assert.True(similar.Zip(similar.Skip(1)).All(p => p.First.Score >= p.Second.Score));
        Assert.Equal(2, model.Similar(i0, 2).Count);
        Assert.Empty(model.Similar(ItemIndex(log, "i5"), 5));
        Assert.Empty(model.Similar(-1, 5));
        Assert.Empty(model.Similar(model.ItemCount, 5));
        Assert.Empty(model.Similar(i0, 0));
    }

    [Fact]
    public void Save_then_Load_round_trips_identically()
    {
        var log = TinyLog();
        var model = EaseModel.Train(log, new EaseOptions { Lambda = 3, Binary = false });
        using var stream = new MemoryStream();
        model.Save(stream);
        stream.Position = 0;

        var loaded = EaseModel.Load(stream);

        Assert.Equal(model.ItemCount, loaded.ItemCount);
        Assert.Equal(model.ModelledItemCount, loaded.ModelledItemCount);
        Assert.Equal(3f, loaded.Lambda);
        Assert.False(loaded.Binary);
        for (var i = 0; i < model.ItemCount; i++)
        {
            for (var j = 0; j < model.ItemCount; j++)
            {
                Assert.Equal(model.Weight(i, j), loaded.Weight(i, j));
            }

            Assert.Equal(model.Similar(i, 10), loaded.Similar(i, 10));
        }

        var history = UserHistory.Of(log, UserIndex(log, "u3"));
        var a = new float[model.ItemCount];
        var b = new float[model.ItemCount];
        Assert.True(model.Score(history, a));
        Assert.True(loaded.Score(history, b));
        Assert.Equal(a, b);
        Assert.Equal(default, loaded.TrainingTimes);
    }

    [Fact]
    public void Load_truncated_artifact_throws_InvalidDataException()
    {
        var model = EaseModel.Train(TinyLog());
        using var stream = new MemoryStream();
        model.Save(stream);
        var bytes = stream.ToArray();

        foreach (var length in new[] { 3, 12, bytes.Length / 2, bytes.Length - 1 })
        {
            Assert.Throws<InvalidDataException>(() => EaseModel.Load(new MemoryStream(bytes[..length])));
        }
    }

    [Fact]
    public void Train_catalogue_over_MaxItems_is_refused_with_a_clear_message()
    {
        var log = TinyLog();

        var e = Assert.Throws<ArgumentException>(() => EaseModel.Train(log, new EaseOptions { MaxItems = 4 }));

        Assert.Contains("5 items", e.Message, StringComparison.Ordinal);
        Assert.Contains("MaxItems", e.Message, StringComparison.Ordinal);
        Assert.Contains("n² × 4 bytes", e.Message, StringComparison.Ordinal);
        Assert.Contains("O(n³)", e.Message, StringComparison.Ordinal);
        Assert.Equal(5, EaseModel.Train(log, new EaseOptions { MaxItems = 5 }).ModelledItemCount);
    }

    [Fact]
    public void Train_rejects_bad_options_and_reports_its_times()
    {
        var log = TinyLog();

        Assert.Throws<ArgumentOutOfRangeException>(() => EaseModel.Train(log, new EaseOptions { Lambda = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => EaseModel.Train(log, new EaseOptions { Lambda = float.NaN }));
        Assert.Throws<ArgumentOutOfRangeException>(() => EaseModel.Train(log, new EaseOptions { MaxItems = EaseOptions.LargestSupportedItems + 1 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => EaseModel.Train(log, new EaseOptions { MaxDegreeOfParallelism = 0 }));
        var model = EaseModel.Train(log);
        Assert.True(model.TrainingTimes.Total > TimeSpan.Zero);
        Assert.Equal("ease", model.Name);
    }

    [Fact]
    public void Train_log_without_interactions_scores_nothing()
    {
        var log = Build(3, ("u1", null, "search", 1));
        var model = EaseModel.Train(log);

        Assert.Equal(0, model.ModelledItemCount);
        Assert.Empty(model.TopK(UserHistory.Of(log, 0), 3));
        Assert.Empty(model.Similar(0, 3));
    }

    private static double[,] Trim(double[,] x, int columns)
    {
        var users = x.GetLength(0);
        var trimmed = new double[users, columns];
        for (var u = 0; u < users; u++)
        {
            for (var c = 0; c < columns; c++)
            {
                trimmed[u, c] = x[u, c];
            }
        }

        return trimmed;
    }
}
