using Ranking.Candidates;
using Ranking.Data;
using Ranking.Domain;

namespace Ranking.Tests.Candidates;

public sealed class AlsModelTests
{
    private const int Users = 200;
    private const int BlockItems = 25;
    private const int Blocks = 4;

    // Five items past the blocks are never touched: degree 0 in training.
    private const int Items = (Blocks * BlockItems) + 5;

    private static readonly AlsOptions Small = new() { Factors = 8, Iterations = 12, Regularization = 0.1, Alpha = 10, Seed = 7 };

    [Fact]
    public void Train_PlantedBlocks_HeldOutInBlockItemsOutscoreOtherBlocks()
    {
        var data = Planted.Create(seed: 1, heldOutPerUser: 3);
        var model = AlsModel.Train(data.Matrix, Small);

        var scores = new float[model.ItemCount];
        long wins = 0;
        long pairs = 0;
        for (var u = 0; u < Users; u++)
        {
            Assert.True(model.Score(new UserHistory(u, default, default, default), scores));
            foreach (var positive in data.HeldOut[u])
            {
                for (var i = 0; i < Blocks * BlockItems; i++)
                {
                    if (i / BlockItems != data.BlockOf(u))
                    {
                        wins += scores[positive] > scores[i] ? 1 : 0;
                        pairs++;
                    }
                }
            }
        }

        var auc = (double)wins / pairs;
        Assert.True(auc > 0.95, $"AUC {auc:0.000}");
    }

    [Fact]
    public void Similar_PlantedBlocks_NeighboursComeFromTheSameBlock()
    {
        var data = Planted.Create(seed: 2, heldOutPerUser: 0);
        var model = AlsModel.Train(data.Matrix, Small);

        var sameBlock = 0;
        var total = 0;
        for (var item = 0; item < Blocks * BlockItems; item += 7)
        {
            var similar = model.Similar(item, 10);
            Assert.Equal(10, similar.Count);
            foreach (var s in similar)
            {
                Assert.NotEqual(item, s.Item);
                Assert.InRange(s.Score, -1.0001f, 1.0001f);
                sameBlock += s.Item / BlockItems == item / BlockItems ? 1 : 0;
                total++;
            }

            for (var k = 1; k < similar.Count; k++)
            {
                Assert.True(similar[k - 1].Score >= similar[k].Score);
            }
        }

        Assert.True(sameBlock >= total * 0.95, $"{sameBlock} of {total} neighbours in the same block");
    }

    [Fact]
    public void Train_WithLoss_LossNeverRisesAndMatchesLossMethod()
    {
        var data = Planted.Create(seed: 3, heldOutPerUser: 0);
        var progress = new Recorder();
        var model = AlsModel.Train(data.Matrix, Small with { ComputeLoss = true }, progress);

        Assert.Equal(Small.Iterations, progress.Reports.Count);
        for (var k = 0; k < progress.Reports.Count; k++)
        {
            Assert.Equal(k + 1, progress.Reports[k].Iteration);
            Assert.True(progress.Reports[k].Seconds >= 0);
            Assert.NotNull(progress.Reports[k].Loss);
        }

        for (var k = 1; k < progress.Reports.Count; k++)
        {
            var before = progress.Reports[k - 1].Loss!.Value;
            var after = progress.Reports[k].Loss!.Value;
            Assert.True(after <= before * (1 + 1e-6), $"loss rose from {before} to {after} at iteration {k + 1}");
        }

        Assert.True(progress.Reports[^1].Loss!.Value < progress.Reports[0].Loss!.Value);
        Assert.Equal(progress.Reports[^1].Loss!.Value, model.Loss(data.Matrix), 1e-9 * progress.Reports[^1].Loss!.Value);
    }

    [Fact]
    public void Train_WithoutComputeLoss_ReportsNoLoss()
    {
        var data = Planted.Create(seed: 3, heldOutPerUser: 0);
        var progress = new Recorder();
        AlsModel.Train(data.Matrix, Small with { Iterations = 2 }, progress);

        Assert.Equal(2, progress.Reports.Count);
        Assert.All(progress.Reports, r => Assert.Null(r.Loss));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Loss_EqualsTheNaiveSumOverAllPairs(bool logConfidence)
    {
        var data = Planted.Create(seed: 4, heldOutPerUser: 2);
        var options = Small with { Iterations = 3, LogConfidence = logConfidence };
        var model = AlsModel.Train(data.Matrix, options);
        var f = model.Factors;

        var expected = 0.0;
        for (var u = 0; u < Users; u++)
        {
            var observed = new Dictionary<int, float>();
            var items = data.Matrix.ItemsOf(u);
            var values = data.Matrix.ValuesOf(u);
            for (var k = 0; k < items.Length; k++)
            {
                observed[items[k]] = values[k];
            }

            for (var i = 0; i < Items; i++)
            {
                var s = NaiveDot(model.UserVector(u), model.ItemVector(i));
                if (observed.TryGetValue(i, out var v))
                {
                    var c = 1 + (options.Alpha * (logConfidence ? Math.Log(1 + v) : v));
                    expected += c * (1 - s) * (1 - s);
                }
                else
                {
                    expected += s * s;
                }
            }
        }

        expected += options.Regularization * (NaiveDot(model.UserFactors.Span, model.UserFactors.Span) + NaiveDot(model.ItemFactors.Span, model.ItemFactors.Span));
        Assert.Equal(8, f);
        Assert.Equal(expected, model.Loss(data.Matrix), 1e-5 * expected);
    }

    [Fact]
    public void Train_CgStepsEqualToFactors_ItemVectorsSolveTheirNormalEquationsExactly()
    {
        var data = Planted.Create(seed: 5, heldOutPerUser: 0);
        var options = Small with { Iterations = 4, CgSteps = Small.Factors };
        var model = AlsModel.Train(data.Matrix, options);
        var f = model.Factors;

        // The last half-iteration solved the items against the final user vectors.
        for (var item = 0; item < Blocks * BlockItems; item += 9)
        {
            var a = new double[f, f];
            var b = new double[f];
            for (var u = 0; u < Users; u++)
            {
                AddOuter(a, model.UserVector(u), 1.0);
            }

            for (var j = 0; j < f; j++)
            {
                a[j, j] += options.Regularization;
            }

            var users = data.Matrix.UsersOf(item);
            var values = data.Matrix.ItemValuesOf(item);
            for (var k = 0; k < users.Length; k++)
            {
                var extra = options.Alpha * values[k];
                var x = model.UserVector(users[k]);
                AddOuter(a, x, extra);
                for (var j = 0; j < f; j++)
                {
                    b[j] += (1 + extra) * x[j];
                }
            }

            var exact = GaussianSolve(a, b);
            var actual = model.ItemVector(item);
            var scale = Math.Sqrt(NaiveDot(exact, exact));
            for (var j = 0; j < f; j++)
            {
                Assert.True(Math.Abs(actual[j] - exact[j]) <= 1e-3 * scale, $"item {item} factor {j}: {actual[j]} vs {exact[j]}");
            }
        }
    }

    [Fact]
    public void FoldIn_TrainingUsersHistory_MatchesExactSolveAgainstItemVectors()
    {
        var data = Planted.Create(seed: 6, heldOutPerUser: 0);
        var options = Small with { Iterations = 3 };
        var model = AlsModel.Train(data.Matrix, options);
        var f = model.Factors;

        const int user = 17;
        var items = data.Matrix.ItemsOf(user).ToArray();
        var values = data.Matrix.ValuesOf(user).ToArray();

        // Split every weight over two events: fold-in sums them per item as the matrix does.
        var eventItems = items.Concat(items).ToArray();
        var eventWeights = values.Select(v => v / 2).Concat(values.Select(v => v / 2)).ToArray();
        var history = new UserHistory(-1, eventItems, eventWeights, new long[eventItems.Length]);
        var folded = new float[f];
        Assert.True(model.FoldIn(history, folded));

        var a = new double[f, f];
        var b = new double[f];
        for (var i = 0; i < Items; i++)
        {
            AddOuter(a, model.ItemVector(i), 1.0);
        }

        for (var j = 0; j < f; j++)
        {
            a[j, j] += options.Regularization;
        }

        for (var k = 0; k < items.Length; k++)
        {
            var extra = options.Alpha * values[k];
            var y = model.ItemVector(items[k]);
            AddOuter(a, y, extra);
            for (var j = 0; j < f; j++)
            {
                b[j] += (1 + extra) * y[j];
            }
        }

        var exact = GaussianSolve(a, b);
        var scale = Math.Sqrt(NaiveDot(exact, exact));
        for (var j = 0; j < f; j++)
        {
            Assert.True(Math.Abs(folded[j] - exact[j]) <= 1e-4 * scale, $"factor {j}: {folded[j]} vs {exact[j]}");
        }
    }

    [Fact]
    public void TopK_ExcludedAndUntrainedItems_NeverReturned()
    {
        var data = Planted.Create(seed: 8, heldOutPerUser: 0);
        var model = AlsModel.Train(data.Matrix, Small with { Iterations = 3 });

        for (var u = 0; u < Users; u += 13)
        {
            var exclude = data.Matrix.ItemsOf(u).ToArray();
            var top = model.TopK(new UserHistory(u, default, default, default), Items, exclude);

            Assert.Equal((Blocks * BlockItems) - exclude.Length, top.Count);
            foreach (var s in top)
            {
                Assert.DoesNotContain(s.Item, exclude);
                Assert.True(s.Item < Blocks * BlockItems, $"untrained item {s.Item} returned");
            }
        }

        var scores = new float[Items];
        Assert.True(model.Score(new UserHistory(0, default, default, default), scores));
        for (var i = Blocks * BlockItems; i < Items; i++)
        {
            Assert.Equal(float.NegativeInfinity, scores[i]);
            Assert.Equal(0, model.ItemDegree(i));
        }
    }

    [Fact]
    public void Unknowns_EmptyHistoryAndUnknownItems_GiveEmptyResults()
    {
        var data = Planted.Create(seed: 9, heldOutPerUser: 0);
        var model = AlsModel.Train(data.Matrix, Small with { Iterations = 2 });
        var scores = new float[Items];

        Assert.Empty(model.TopK(UserHistory.Unknown, 10));
        Assert.False(model.Score(UserHistory.Unknown, scores));
        Assert.Empty(model.TopK(new UserHistory(Users + 5, default, default, default), 10));

        // A history of searches, items out of range and untrained items says nothing.
        var useless = new UserHistory(-1, new[] { -1, Items, Items + 40, Items - 1 }, new[] { 1f, 1f, 1f, 1f }, new long[4]);
        Assert.False(model.Score(useless, scores));
        Assert.Empty(model.TopK(useless, 10));

        Assert.Empty(model.Similar(-1, 5));
        Assert.Empty(model.Similar(Items, 5));
        Assert.Empty(model.Similar(Items - 1, 5));
        Assert.Empty(model.Similar(0, 0));
        Assert.True(float.IsNaN(model.Affinity(0, Items - 1)));
        Assert.True(float.IsNaN(model.Affinity(-1, 0)));
        Assert.False(float.IsNaN(model.Affinity(0, 0)));
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Similar(0, -1));
        Assert.Throws<ArgumentException>(() => model.Score(UserHistory.Unknown, new float[Items - 1]));
    }

    [Fact]
    public void Score_HeldBackUserFromLog_FoldInRanksHerBlockFirst()
    {
        var types = EventTypeRegistry.Default;
        var view = types.TryGetCode(EventTypeRegistry.View, out var v) ? v : throw new InvalidOperationException();
        var order = types.TryGetCode(EventTypeRegistry.Order, out var o) ? o : throw new InvalidOperationException();
        var random = new Random(11);
        var builder = new InteractionLogBuilder(types);
        for (var u = 0; u < Users; u++)
        {
            var block = u % Blocks;
            for (var i = 0; i < BlockItems; i++)
            {
                if (random.NextDouble() < 0.6)
                {
                    var item = $"i{(block * BlockItems) + i}";
                    builder.Add($"u{u}", item, view, 1000 + i);
                    if (random.NextDouble() < 0.3)
                    {
                        builder.Add($"u{u}", item, order, 2000 + i);
                    }
                }
            }

            builder.Add($"u{u}", null, types.TryGetCode(EventTypeRegistry.Search, out var s) ? s : (byte)0, 3000);
        }

        var log = builder.Build();
        Assert.True(log.TryGetUserIndex("u6", out var held));
        var keep = new bool[log.Count];
        for (var r = 0; r < log.Count; r++)
        {
            keep[r] = log.User[r] != held;
        }

        var model = AlsModel.Train(log.Subset(keep), Small);
        Assert.Equal(0, model.UserDegree(held));

        var known = UserHistory.Of(log, held);
        var stranger = new UserHistory(-1, known.Items, known.Weights, known.TimestampsMs);
        var ownItems = known.Items.ToArray().Where(i => i >= 0).Distinct().ToArray();
        foreach (var history in new[] { known, stranger })
        {
            var top = model.TopK(history, 5, ownItems);
            Assert.Equal(5, top.Count);
            foreach (var s in top)
            {
                Assert.StartsWith("i", log.ItemIds[s.Item], StringComparison.Ordinal);
                var itemNumber = int.Parse(log.ItemIds[s.Item].AsSpan(1), System.Globalization.CultureInfo.InvariantCulture);
                Assert.Equal(6 % Blocks, itemNumber / BlockItems);
            }
        }
    }

    [Fact]
    public void Train_SameSeedAnyThreadCount_IdenticalFactors()
    {
        var data = Planted.Create(seed: 12, heldOutPerUser: 0);
        var a = AlsModel.Train(data.Matrix, Small with { Iterations = 4, MaxDegreeOfParallelism = 1 });
        var b = AlsModel.Train(data.Matrix, Small with { Iterations = 4 });
        var c = AlsModel.Train(data.Matrix, Small with { Iterations = 4, Seed = Small.Seed + 1 });

        Assert.True(a.UserFactors.Span.SequenceEqual(b.UserFactors.Span));
        Assert.True(a.ItemFactors.Span.SequenceEqual(b.ItemFactors.Span));
        Assert.False(a.ItemFactors.Span.SequenceEqual(c.ItemFactors.Span));
    }

    [Fact]
    public void SaveLoad_RoundTrip_IdenticalScoresAndTruncationRefused()
    {
        var data = Planted.Create(seed: 13, heldOutPerUser: 0);
        var model = AlsModel.Train(data.Matrix, Small with { Iterations = 3, LogConfidence = true });
        using var stream = new MemoryStream();
        model.Save(stream);
        var bytes = stream.ToArray();

        var loaded = AlsModel.Load(new MemoryStream(bytes));
        Assert.Equal(model.Options with { MaxDegreeOfParallelism = -1 }, loaded.Options);
        Assert.Equal(model.UserCount, loaded.UserCount);
        Assert.Equal(model.ItemCount, loaded.ItemCount);
        var expected = new float[Items];
        var actual = new float[Items];
        for (var u = 0; u < Users; u += 11)
        {
            var user = new UserHistory(u, default, default, default);
            Assert.True(model.Score(user, expected));
            Assert.True(loaded.Score(user, actual));
            Assert.Equal(expected, actual);
        }

        Assert.Equal(model.Similar(3, 10), loaded.Similar(3, 10));
        foreach (var length in new[] { 3, 20, bytes.Length / 2, bytes.Length - 1 })
        {
            Assert.Throws<InvalidDataException>(() => AlsModel.Load(new MemoryStream(bytes[..length])));
        }
    }

    [Theory]
    [InlineData(nameof(AlsOptions.Factors))]
    [InlineData(nameof(AlsOptions.Iterations))]
    [InlineData(nameof(AlsOptions.Regularization))]
    [InlineData(nameof(AlsOptions.Alpha))]
    [InlineData(nameof(AlsOptions.CgSteps))]
    [InlineData(nameof(AlsOptions.MaxDegreeOfParallelism))]
    public void Train_InvalidOption_ThrowsNamingIt(string name)
    {
        var options = name switch
        {
            nameof(AlsOptions.Factors) => new AlsOptions { Factors = 0 },
            nameof(AlsOptions.Iterations) => new AlsOptions { Iterations = 0 },
            nameof(AlsOptions.Regularization) => new AlsOptions { Regularization = double.NaN },
            nameof(AlsOptions.Alpha) => new AlsOptions { Alpha = 0 },
            nameof(AlsOptions.CgSteps) => new AlsOptions { CgSteps = 0 },
            _ => new AlsOptions { MaxDegreeOfParallelism = 0 },
        };
        var data = Planted.Create(seed: 14, heldOutPerUser: 0);

        var e = Assert.Throws<ArgumentOutOfRangeException>(() => AlsModel.Train(data.Matrix, options));
        Assert.Equal(name, e.ParamName);
    }

    [Fact]
    public void Train_Cancelled_Throws()
    {
        var data = Planted.Create(seed: 15, heldOutPerUser: 0);
        using var cts = new CancellationTokenSource();
        cts.Cancel();

        Assert.ThrowsAny<OperationCanceledException>(() => AlsModel.Train(data.Matrix, Small, cancellationToken: cts.Token));
    }

    private static double NaiveDot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        var sum = 0.0;
        for (var k = 0; k < a.Length; k++)
        {
            sum += (double)a[k] * b[k];
        }

        return sum;
    }

    private static double NaiveDot(double[] a, double[] b)
    {
        var sum = 0.0;
        for (var k = 0; k < a.Length; k++)
        {
            sum += a[k] * b[k];
        }

        return sum;
    }

    private static void AddOuter(double[,] a, ReadOnlySpan<float> v, double scale)
    {
        for (var j = 0; j < v.Length; j++)
        {
            for (var k = 0; k < v.Length; k++)
            {
                a[j, k] += scale * v[j] * v[k];
            }
        }
    }

    // Reference: Gaussian elimination with partial pivoting.
    private static double[] GaussianSolve(double[,] a, double[] b)
    {
        var n = b.Length;
        var m = (double[,])a.Clone();
        var x = (double[])b.Clone();
        for (var col = 0; col < n; col++)
        {
            var pivot = col;
            for (var r = col + 1; r < n; r++)
            {
                if (Math.Abs(m[r, col]) > Math.Abs(m[pivot, col]))
                {
                    pivot = r;
                }
            }

            for (var k = 0; k < n; k++)
            {
                (m[col, k], m[pivot, k]) = (m[pivot, k], m[col, k]);
            }

            (x[col], x[pivot]) = (x[pivot], x[col]);
            for (var r = col + 1; r < n; r++)
            {
                var factor = m[r, col] / m[col, col];
                for (var k = col; k < n; k++)
                {
                    m[r, k] -= factor * m[col, k];
                }

                x[r] -= factor * x[col];
            }
        }

        for (var r = n - 1; r >= 0; r--)
        {
            var sum = x[r];
            for (var k = r + 1; k < n; k++)
            {
                sum -= m[r, k] * x[k];
            }

            x[r] = sum / m[r, r];
        }

        return x;
    }

    private sealed class Recorder : IProgress<AlsIteration>
    {
        public List<AlsIteration> Reports { get; } = [];

        public void Report(AlsIteration value) => Reports.Add(value);
    }

    /// <summary>
    /// 200 users in 4 blocks of 50 (user u in block u / 50) and 4 blocks of 25 items; each user touches a random 60 % of
    /// her block's items with weight 1 or 3; <c>heldOutPerUser</c> of them are kept out of the matrix.
    /// </summary>
    private sealed record Planted(UserItemMatrix Matrix, List<int>[] HeldOut)
    {
        public int BlockOf(int user) => user / (Users / Blocks);

        public static Planted Create(int seed, int heldOutPerUser)
        {
            var random = new Random(seed);
            var offsets = new int[Users + 1];
            var items = new List<int>();
            var weights = new List<float>();
            var heldOut = new List<int>[Users];
            for (var u = 0; u < Users; u++)
            {
                var block = u / (Users / Blocks);
                var chosen = new List<int>();
                for (var i = 0; i < BlockItems; i++)
                {
                    if (random.NextDouble() < 0.6)
                    {
                        chosen.Add((block * BlockItems) + i);
                    }
                }

                random.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(chosen));
                heldOut[u] = chosen.GetRange(0, Math.Min(heldOutPerUser, chosen.Count));
                foreach (var item in chosen.Skip(heldOutPerUser))
                {
                    items.Add(item);
                    weights.Add(random.NextDouble() < 0.8 ? 1f : 3f);
                }

                offsets[u + 1] = items.Count;
            }

            return new Planted(UserItemMatrix.From(Users, Items, offsets, items.ToArray(), weights.ToArray()), heldOut);
        }
    }
}
