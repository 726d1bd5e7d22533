namespace Ranking.Experiments.Statistics;

/// <summary>An always-valid reading of a difference in means at one look.</summary>
/// <param name="IsDefined">False when a group has fewer than two observations or both have zero variance.</param>
/// <param name="Reason">Why it is undefined; null otherwise.</param>
/// <param name="Difference">Treatment mean minus control mean (0 when undefined).</param>
/// <param name="AlwaysValidPValue">
/// min(1, 1/Λ) at this look, in [0, 1]; 1 when undefined. Keep the running minimum across looks with
/// <see cref="SequentialTest.RunningPValue"/>.
/// </param>
/// <param name="CiLow">Lower end of the 1 − alpha confidence sequence at this look (0 when undefined).</param>
/// <param name="CiHigh">Upper end of the confidence sequence at this look (0 when undefined).</param>
/// <param name="IsSignificant">AlwaysValidPValue ≤ alpha: stopping here keeps the false-positive rate at alpha.</param>
/// <param name="MixingVariance">The τ² used (0 when undefined).</param>
public sealed record SequentialResult(
    bool IsDefined, string? Reason, double Difference, double AlwaysValidPValue, double CiLow, double CiHigh, bool IsSignificant,
    double MixingVariance);

/// <summary>
/// Always-valid inference for a difference of means by the mixture sequential probability ratio test (mSPRT) with a
/// normal mixture, in the normal approximation (Johari, Koomen, Pekelis &amp; Walsh, "Always valid inference", 2017/2022).
/// The experiment may be read at every look and stopped at the first significant one without inflating the
/// false-positive rate beyond alpha.
/// </summary>
/// <remarks>
/// <para>
/// With Δ the observed difference, V = s²_c/n_c + s²_t/n_t its variance and τ² the variance of the normal mixture over
/// the true difference, the mixture likelihood ratio against "no difference" is
/// Λ = √(V/(V + τ²)) · exp(τ²Δ² / (2V(V + τ²))). Under the null Λ is a (approximate) martingale with mean 1, so by
/// Ville's inequality P(Λ ever reaches 1/α) ≤ α: the always-valid p-value is min(1, 1/Λ).
/// </para>
/// <para>
/// The confidence sequence is the set of differences θ that the same test would not reject, i.e. Λ(Δ − θ) &lt; 1/α:
/// (Δ − θ)² · τ²/(2V(V + τ²)) &lt; ln(1/α) + ½ ln((V + τ²)/V), which gives
/// Δ ± √( V(V + τ²)/τ² · ( ln((V + τ²)/V) + 2 ln(1/α) ) ). It excludes 0 exactly when the p-value is at most alpha.
/// Callers who want a monotone sequence intersect the intervals across looks.
/// </para>
/// <para>
/// τ² sets which effect sizes the test is quickest to find (effects of order τ); validity holds for any τ² fixed
/// before the data. See <see cref="DefaultMixingVariance"/> for the default.
/// </para>
/// </remarks>
public static class SequentialTest
{
    /// <summary>The relative effect the default mixture is centred on: 10% of the control mean.</summary>
    public const double DefaultRelativeEffect = 0.1;

    /// <summary>The effect in standard deviations the default mixture uses when the control mean is 0.</summary>
    public const double DefaultStandardizedEffect = 0.1;

    /// <summary>Reads the comparison at one look.</summary>
    /// <param name="control">Everything observed in the control so far.</param>
    /// <param name="treatment">Everything observed in the treatment so far.</param>
    /// <param name="mixingVariance">
    /// τ² in squared metric units; null for <see cref="DefaultMixingVariance"/>. For strict validity compute it once
    /// (from the first look or from pre-experiment data) and pass the same value at every look: the default is
    /// recomputed from the current control mean, which moves only by its sampling noise.
    /// </param>
    /// <returns>
    /// The reading; undefined (p = 1, zeros, a reason) when a group has fewer than two observations, both groups have
    /// zero variance, or the default τ² comes out as 0.
    /// </returns>
    /// <exception cref="ArgumentOutOfRangeException">
    /// <paramref name="alpha"/> is not strictly between 0 and 1, or <paramref name="mixingVariance"/> is not positive and finite.
    /// </exception>
    /// <exception cref="ArgumentException">A summary has a negative count or variance, or a non-finite mean or variance.</exception>
    public static SequentialResult Compare(SampleSummary control, SampleSummary treatment, double alpha = 0.05, double? mixingVariance = null)
    {
        SignificanceLevel.ThrowIfInvalid(alpha);
        if (mixingVariance is { } given && !(given > 0.0 && double.IsFinite(given)))
        {
            throw new ArgumentOutOfRangeException(nameof(mixingVariance), given, "The mixing variance must be positive and finite.");
        }

        WelchTest.ThrowIfInvalid(control);
        WelchTest.ThrowIfInvalid(treatment);
        if (control.Count < 2 || treatment.Count < 2)
        {
            return Undefined($"Each group needs at least two observations (control {control.Count}, treatment {treatment.Count}).");
        }

        var variance = (control.Variance / control.Count) + (treatment.Variance / treatment.Count);
        if (!(variance > 0.0))
        {
            return Undefined("Both groups have zero variance: the difference has no standard error.");
        }

        var tau2 = mixingVariance ?? DefaultMixingVariance(control, treatment);
        if (!(tau2 > 0.0))
        {
            return Undefined("The default mixing variance is zero; pass one.");
        }

        var difference = treatment.Mean - control.Mean;

        // ln Λ = −½ ln(1 + τ²/V) + (Δ²/V) · τ²/(V + τ²) / 2, arranged so no intermediate overflows before the end.
        var spread = tau2 / variance;
        var logLambda = (-0.5 * Distributions.LogOnePlus(spread)) + (0.5 * (difference * difference / variance) * (tau2 / (variance + tau2)));
        var pValue = Math.Min(1.0, Math.Exp(-logLambda));
        var halfWidth = Math.Sqrt(variance * (1.0 + (variance / tau2)) * (Distributions.LogOnePlus(spread) + (2.0 * Math.Log(1.0 / alpha))));
        if (!double.IsFinite(difference) || double.IsNaN(pValue) || !double.IsFinite(halfWidth))
        {
            return Undefined("The numbers overflow double precision.");
        }

        return new SequentialResult(true, null, difference, pValue, difference - halfWidth, difference + halfWidth, pValue <= alpha, tau2);
    }

    /// <summary>
    /// The default τ²: (0.1 × control mean)², the square of a 10% lift; when the control mean is 0, (0.1 × pooled
    /// standard deviation)², a tenth of a standard deviation.
    /// </summary>
    /// <remarks>
    /// Both rules are scale-free (they follow the metric's units) and need nothing from outside the experiment. A 10%
    /// lift is a large effect for a product change, so the mixture spends its power on effects people ship on; smaller
    /// true effects are still found, only later. Returns 0 when both the mean and the variances are 0.
    /// </remarks>
    /// <exception cref="ArgumentException">A summary has a negative count or variance, or a non-finite mean or variance.</exception>
    public static double DefaultMixingVariance(SampleSummary control, SampleSummary treatment)
    {
        WelchTest.ThrowIfInvalid(control);
        WelchTest.ThrowIfInvalid(treatment);
        var scale = DefaultRelativeEffect * Math.Abs(control.Mean);
        var tau2 = scale * scale;
        if (tau2 > 0.0 && double.IsFinite(tau2))
        {
            return tau2;
        }

        var degrees = Math.Max(0, control.Count - 1) + Math.Max(0, treatment.Count - 1);
        var pooled = degrees == 0 ? 0.0
            : ((Math.Max(0, control.Count - 1) * control.Variance) + (Math.Max(0, treatment.Count - 1) * treatment.Variance)) / degrees;
        var fallback = DefaultStandardizedEffect * DefaultStandardizedEffect * pooled;
        return double.IsFinite(fallback) ? fallback : 0.0;
    }

    /// <summary>
    /// The always-valid p-value after a new look: the minimum of the previous one and this look's. Start with 1.
    /// </summary>
    /// <remarks>Both arguments are p-values in [0, 1]; a NaN argument propagates (Math.Min semantics).</remarks>
    public static double RunningPValue(double previous, double current) => Math.Min(previous, current);

    private static SequentialResult Undefined(string reason) => new(false, reason, 0, 1, 0, 0, false, 0);
}
