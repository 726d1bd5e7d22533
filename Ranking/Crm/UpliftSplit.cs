namespace Ranking.Crm;

/// <summary>A train/test split of row positions, each part in ascending order.</summary>
public sealed record UpliftSplit(int[] Train, int[] Test)
{
    /// <summary>
    /// Splits rows stratified by treatment × outcome, so both parts keep the arms' sizes and response rates:
    /// <list type="number">
    /// <item><description>The rows fall into four strata, visited in the order (control, y = 0), (control, y ≠ 0),
    /// (treated, y = 0), (treated, y ≠ 0); each stratum lists its rows in ascending position.</description></item>
    /// <item><description>One <c>new Random(seed)</c> shuffles each stratum in turn by Fisher–Yates (for i from the
    /// last index down to 1, swap i with <c>Next(i + 1)</c>).</description></item>
    /// <item><description>The first ⌊size · <paramref name="trainShare"/>⌋ shuffled rows of each stratum go to
    /// training, the rest to test; both parts are then sorted ascending.</description></item>
    /// </list>
    /// </summary>
    /// <param name="trainShare">In (0, 1).</param>
    /// <exception cref="ArgumentException">The spans differ in length.</exception>
    public static UpliftSplit Stratified(ReadOnlySpan<bool> treatment, ReadOnlySpan<double> outcome, double trainShare = 0.5, int seed = 42)
    {
        if (treatment.Length != outcome.Length)
        {
            throw new ArgumentException($"{treatment.Length} treatment flags and {outcome.Length} outcomes.", nameof(outcome));
        }

        if (!(trainShare > 0 && trainShare < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(trainShare), trainShare, "The training share must be in (0, 1).");
        }

        var strata = new List<int>[4];
        for (var s = 0; s < strata.Length; s++)
        {
            strata[s] = [];
        }

        for (var i = 0; i < treatment.Length; i++)
        {
            strata[(treatment[i] ? 2 : 0) + (outcome[i] != 0 ? 1 : 0)].Add(i);
        }

        var random = new Random(seed);
        var train = new List<int>();
        var test = new List<int>();
        foreach (var stratum in strata)
        {
            for (var i = stratum.Count - 1; i > 0; i--)
            {
                var j = random.Next(i + 1);
                (stratum[i], stratum[j]) = (stratum[j], stratum[i]);
            }

            var trainCount = (int)(stratum.Count * trainShare);
            train.AddRange(stratum.GetRange(0, trainCount));
            test.AddRange(stratum.GetRange(trainCount, stratum.Count - trainCount));
        }

        train.Sort();
        test.Sort();
        return new UpliftSplit([.. train], [.. test]);
    }
}
