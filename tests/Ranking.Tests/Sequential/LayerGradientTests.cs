using Ranking.Sequential;

namespace Ranking.Tests.Sequential;

/// <summary>
/// Every layer's backward pass against central finite differences of L = Σ r · y (r fixed random), the loss summed
/// in double so that float rounding stays below the tolerance.
/// </summary>
public sealed class LayerGradientTests
{
    private const float Step = 1e-2f;

    [Fact]
    public void LayerNorm_Backward_MatchesFiniteDifferences()
    {
        const int rows = 3;
        const int d = 7;
        var random = new Random(1);
        var x = Random(random, rows * d, 1.5f);
        var gamma = Random(random, d, 1f);
        var beta = Random(random, d, 1f);
        var r = Random(random, rows * d, 1f);
        var mean = new float[rows];
        var rstd = new float[rows];

        double Loss()
        {
            var y = new float[rows * d];
            TransformerLayers.LayerNormForward(x, gamma, beta, y, mean, rstd, rows, d);
            return Dot(y, r);
        }

        Loss();
        var dx = new float[rows * d];
        var dGamma = new float[d];
        var dBeta = new float[d];
        TransformerLayers.LayerNormBackward(r, x, mean, rstd, gamma, dx, dGamma, dBeta, rows, d);

        AssertGradient(x, dx, Loss);
        AssertGradient(gamma, dGamma, Loss);
        AssertGradient(beta, dBeta, Loss);
    }

    [Fact]
    public void Linear_Backward_MatchesFiniteDifferences()
    {
        const int rows = 4;
        const int inputs = 5;
        const int outputs = 37;
        var random = new Random(2);
        var x = Random(random, rows * inputs, 1f);
        var w = Random(random, inputs * outputs, 1f);
        var b = Random(random, outputs, 1f);
        var r = Random(random, rows * outputs, 1f);

        double Loss()
        {
            var y = new float[rows * outputs];
            TransformerLayers.LinearForward(x, w, b, y, rows, inputs, outputs);
            return Dot(y, r);
        }

        var dx = new float[rows * inputs];
        var dW = new float[inputs * outputs];
        var dB = new float[outputs];
        TransformerLayers.LinearBackward(r, x, w, dx, dW, dB, new float[inputs * outputs], rows, inputs, outputs, accumulateDx: false);

        AssertGradient(x, dx, Loss);
        AssertGradient(w, dW, Loss);
        AssertGradient(b, dB, Loss);
    }

    [Fact]
    public void Gelu_Backward_MatchesFiniteDifferences()
    {
        var random = new Random(3);
        var u = Random(random, 41, 3f);
        var r = Random(random, 41, 1f);

        double Loss()
        {
            var g = new float[u.Length];
            TransformerLayers.GeluForward(u, g);
            return Dot(g, r);
        }

        var du = new float[u.Length];
        TransformerLayers.GeluBackward(r, u, du);

        AssertGradient(u, du, Loss);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Attention_Backward_MatchesFiniteDifferences(int heads)
    {
        const int rows = 5;
        const int d = 8;
        var random = new Random(4 + heads);
        var qkv = Random(random, rows * 3 * d, 1f);
        var r = Random(random, rows * d, 1f);
        var probs = new float[heads * rows * rows];

        double Loss()
        {
            var y = new float[rows * d];
            TransformerLayers.AttentionForward(qkv, probs, y, rows, d, heads);
            return Dot(y, r);
        }

        Loss();
        var dQkv = new float[rows * 3 * d];
        TransformerLayers.AttentionBackward(r, qkv, probs, dQkv, new float[rows], rows, d, heads);

        AssertGradient(qkv, dQkv, Loss);
    }

    [Fact]
    public void Attention_Forward_IsCausal()
    {
        const int rows = 4;
        const int d = 8;
        var random = new Random(9);
        var qkv = Random(random, rows * 3 * d, 1f);
        var before = new float[rows * d];
        TransformerLayers.AttentionForward(qkv, new float[rows * rows], before, rows, d, 1);

        // Changing the last position's key and value leaves every earlier output alone.
        for (var c = d; c < 3 * d; c++)
        {
            qkv[((rows - 1) * 3 * d) + c] += 1f;
        }

        var after = new float[rows * d];
        TransformerLayers.AttentionForward(qkv, new float[rows * rows], after, rows, d, 1);

        Assert.Equal(before.AsSpan(0, (rows - 1) * d).ToArray(), after.AsSpan(0, (rows - 1) * d).ToArray());
        Assert.NotEqual(before[^1], after[^1]);
    }

    [Fact]
    public void Embedding_Backward_MatchesFiniteDifferencesWithRepeatedIds()
    {
        const int d = 6;
        int[] ids = [2, 0, 2];
        var random = new Random(5);
        var table = Random(random, 4 * d, 1f);
        var positions = Random(random, 5 * d, 1f);
        var r = Random(random, ids.Length * d, 1f);
        const float scale = 2.5f;

        double Loss()
        {
            var y = new float[ids.Length * d];
            TransformerLayers.EmbeddingForward(ids, table, positions, 2, scale, y, d);
            return Dot(y, r);
        }

        var dTable = new float[table.Length];
        var dPositions = new float[positions.Length];
        TransformerLayers.EmbeddingBackward(ids, r, 2, scale, dTable, dPositions, d);

        AssertGradient(table, dTable, Loss);
        AssertGradient(positions, dPositions, Loss);
        Assert.All(dTable.AsSpan(d, d).ToArray(), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void DropoutMask_SameSeed_SameMaskWithInvertedScaling()
    {
        var first = new float[10_000];
        var second = new float[10_000];
        var a = new SplitMix(17);
        var b = new SplitMix(17);

        TransformerLayers.DropoutMask(first, 0.25f, ref a);
        TransformerLayers.DropoutMask(second, 0.25f, ref b);

        Assert.Equal(first, second);
        var zeros = first.Count(v => v == 0f);
        Assert.InRange(zeros, 2_300, 2_700);
        Assert.All(first, v => Assert.True(v == 0f || Math.Abs(v - (1 / 0.75f)) < 1e-6f));
    }

    internal static float[] Random(Random random, int length, float scale)
    {
        var values = new float[length];
        for (var i = 0; i < length; i++)
        {
            values[i] = (float)((random.NextDouble() * 2) - 1) * scale;
        }

        return values;
    }

    internal static double Dot(float[] a, float[] b)
    {
        var sum = 0.0;
        for (var i = 0; i < a.Length; i++)
        {
            sum += (double)a[i] * b[i];
        }

        return sum;
    }

    /// <summary>
    /// The whole model's gradient through its trainer, after moving every weight by a seeded ±0.5 (larger weights than the
    /// initial ones, so every path carries a gradient well above rounding): the first loss, the analytic gradient, and
    /// the loss as a function of the (shared) weights for <see cref="AssertGradient"/>.
    /// </summary>
    internal static (double Loss, float[] Analytic, Func<double> LossOf) WholeModelGradient(SequentialModel model, SequentialTrainer trainer)
    {
        var parameters = model.ParameterArray;
        var random = new Random(5);
        for (var i = 0; i < parameters.Length; i++)
        {
            parameters[i] += (float)((random.NextDouble() * 2) - 1) * 0.5f;
        }

        var order = Enumerable.Range(0, trainer.SequenceCount).ToArray();

        double Loss()
        {
            var (sum, positions) = trainer.ComputeGradient(order, 0, order.Length, 1, 0f);
            return sum / positions;
        }

        var first = Loss();
        return (first, (float[])trainer.Gradient.Values.Clone(), Loss);
    }

    /// <summary>Checks the whole model's analytic gradient (see <see cref="WholeModelGradient"/>) against central differences.</summary>
    internal static void AssertWholeModelGradient(SequentialModel model, float[] analytic, Func<double> loss) =>
        AssertGradient(model.ParameterArray, analytic, loss, step: 1e-3f, relative: 2e-2, absolute: 5e-4);

    /// <summary>Central differences at every entry of <paramref name="values"/> (changed and restored in place).</summary>
    internal static void AssertGradient(float[] values, float[] analytic, Func<double> loss, float step = Step, double relative = 1e-2, double absolute = 1e-3)
    {
        for (var i = 0; i < values.Length; i++)
        {
            var original = values[i];
            values[i] = original + step;
            var plus = loss();
            values[i] = original - step;
            var minus = loss();
            values[i] = original;
            var numeric = (plus - minus) / (2.0 * step);
            var tolerance = absolute + (relative * Math.Max(Math.Abs(numeric), Math.Abs(analytic[i])));
            Assert.True(
                Math.Abs(numeric - analytic[i]) <= tolerance,
                $"Entry {i}: analytic {analytic[i]:G6}, numeric {numeric:G6}.");
        }
    }
}
