using Ranking.Sequential;

namespace Ranking.Tests.Sequential;

public sealed class MatrixKernelsTests
{
    public static TheoryData<int, int, int> Sizes => new()
    {
        { 1, 1, 1 }, { 3, 5, 7 }, { 2, 64, 64 }, { 5, 17, 33 }, { 4, 3, 257 }, { 7, 65, 40 }, { 1, 0, 9 },
    };

    [Theory]
    [MemberData(nameof(Sizes))]
    public void Multiply_OddSizes_MatchesScalarReference(int m, int k, int n)
    {
        var random = new Random(m + (k * 31) + (n * 977));
        var a = LayerGradientTests.Random(random, m * k, 1f);
        var b = LayerGradientTests.Random(random, k * n, 1f);
        var c = LayerGradientTests.Random(random, m * n, 1f);
        var expected = (float[])c.Clone();
        for (var i = 0; i < m; i++)
        {
            for (var j = 0; j < n; j++)
            {
                var sum = 0.0;
                for (var p = 0; p < k; p++)
                {
                    sum += (double)a[(i * k) + p] * b[(p * n) + j];
                }

                expected[(i * n) + j] += (float)sum;
            }
        }

        MatrixKernels.Multiply(a, b, c, m, k, n, accumulate: true);

        AssertClose(expected, c, k);
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void MultiplyTransposedA_OddSizes_MatchesScalarReference(int m, int k, int n)
    {
        var random = new Random(m + (k * 37) + (n * 1009));
        var a = LayerGradientTests.Random(random, k * m, 1f);
        var b = LayerGradientTests.Random(random, k * n, 1f);
        var c = new float[m * n];
        var expected = new float[m * n];
        for (var i = 0; i < m; i++)
        {
            for (var j = 0; j < n; j++)
            {
                var sum = 0.0;
                for (var p = 0; p < k; p++)
                {
                    sum += (double)a[(p * m) + i] * b[(p * n) + j];
                }

                expected[(i * n) + j] = (float)sum;
            }
        }

        Array.Fill(c, float.NaN);
        MatrixKernels.MultiplyTransposedA(a, b, c, m, k, n, accumulate: false);

        AssertClose(expected, c, k);
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void MultiplyTransposedB_OddSizes_MatchesScalarReference(int m, int k, int n)
    {
        var random = new Random(m + (k * 41) + (n * 1013));
        var a = LayerGradientTests.Random(random, m * k, 1f);
        var b = LayerGradientTests.Random(random, n * k, 1f);
        var c = new float[m * n];
        var expected = new float[m * n];
        for (var i = 0; i < m; i++)
        {
            for (var j = 0; j < n; j++)
            {
                var sum = 0.0;
                for (var p = 0; p < k; p++)
                {
                    sum += (double)a[(i * k) + p] * b[(j * k) + p];
                }

                expected[(i * n) + j] = (float)sum;
            }
        }

        MatrixKernels.MultiplyTransposedB(a, b, c, m, k, n, accumulate: false);

        AssertClose(expected, c, k);
    }

    [Fact]
    public void Multiply_ShortB_Throws()
    {
        var a = new float[6];
        var b = new float[5];
        var c = new float[4];

        Assert.Throws<ArgumentException>(() => MatrixKernels.Multiply(a, b, c, 2, 3, 2, accumulate: false));
    }

    // Rounding grows with the inner length: allow a few ulps of a sum of k unit-size products.
    private static void AssertClose(float[] expected, float[] actual, int k)
    {
        var tolerance = 1e-5f * (k + 1);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance * Math.Max(1f, Math.Abs(expected[i])), $"Entry {i}: {expected[i]} vs {actual[i]}.");
        }
    }
}
