namespace Ranking.Tests.Experiments.Statistics;

/// <summary>Normal draws for the simulations: Box–Muller on a seeded <see cref="Random"/>, so every run repeats.</summary>
internal static class Gaussian
{
    public static double Next(Random random, double mean = 0, double standardDeviation = 1)
    {
        // 1 − NextDouble() is in (0, 1], so the logarithm is finite.
        var u = 1.0 - random.NextDouble();
        var v = random.NextDouble();
        return mean + (standardDeviation * Math.Sqrt(-2.0 * Math.Log(u)) * Math.Cos(2.0 * Math.PI * v));
    }

    public static double[] Sample(Random random, int count, double mean = 0, double standardDeviation = 1)
    {
        var values = new double[count];
        for (var i = 0; i < count; i++)
        {
            values[i] = Next(random, mean, standardDeviation);
        }

        return values;
    }

    /// <summary>The half-width of a binomial tolerance band: <paramref name="sigmas"/> standard errors of a rate.</summary>
    public static double RateTolerance(double rate, int trials, double sigmas = 4) => sigmas * Math.Sqrt(rate * (1 - rate) / trials);
}
