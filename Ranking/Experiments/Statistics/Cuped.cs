namespace Ranking.Experiments.Statistics;

/// <summary>A CUPED comparison next to the plain one.</summary>
/// <param name="Adjusted">
/// Welch's test on Y − θ(X − mean X): its summaries describe the adjusted values, its difference is the CUPED
/// estimate. Undefined exactly when <paramref name="Unadjusted"/> is, or when a covariate is not finite.
/// </param>
/// <param name="Unadjusted">Welch's test on Y alone.</param>
/// <param name="Theta">The regression coefficient θ; 0 when X has no variance within the groups.</param>
/// <param name="VarianceReduction">
/// 1 − pooled var(Y_adj) / pooled var(Y), in [0, 1]: the share of the variance the covariate removed. 0 when X or Y
/// has no variance.
/// </param>
public sealed record CupedResult(MeanComparison Adjusted, MeanComparison Unadjusted, double Theta, double VarianceReduction);

/// <summary>
/// CUPED (Deng et al. 2013): variance reduction with a pre-exposure covariate X of the outcome Y.
/// </summary>
/// <remarks>
/// θ = pooled within-group cov(Y, X) / pooled within-group var(X), so a treatment effect on Y does not leak into θ;
/// with this θ the variance reduction is the squared pooled within-group correlation. The adjusted test treats θ as
/// known, which costs nothing at experiment sizes. Two passes over the data, no allocation.
/// </remarks>
public static class Cuped
{
    /// <summary>Compares the groups with and without the covariate adjustment.</summary>
    /// <param name="controlY">Outcome per control user.</param>
    /// <param name="controlX">Pre-exposure covariate per control user, in the same order.</param>
    /// <param name="treatmentY">Outcome per treatment user.</param>
    /// <param name="treatmentX">Pre-exposure covariate per treatment user, in the same order.</param>
    /// <returns>
    /// Both comparisons; each is undefined in the cases of <see cref="WelchTest"/> (empty or one-element groups,
    /// zero variance, non-finite values). θ and the variance reduction are 0 when a value is NaN or infinite or X has
    /// no within-group variance; otherwise they are reported even when a test is undefined (a covariate that explains
    /// Y exactly leaves zero adjusted variance: reduction 1, adjusted test undefined).
    /// </returns>
    /// <exception cref="ArgumentException">An outcome span and its covariate span differ in length.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="alpha"/> is not strictly between 0 and 1.</exception>
    public static CupedResult Compare(
        ReadOnlySpan<double> controlY, ReadOnlySpan<double> controlX, ReadOnlySpan<double> treatmentY, ReadOnlySpan<double> treatmentX,
        double alpha = 0.05)
    {
        SignificanceLevel.ThrowIfInvalid(alpha);
        if (controlY.Length != controlX.Length)
        {
            throw new ArgumentException($"The control has {controlY.Length} outcomes but {controlX.Length} covariates.", nameof(controlX));
        }

        if (treatmentY.Length != treatmentX.Length)
        {
            throw new ArgumentException($"The treatment has {treatmentY.Length} outcomes but {treatmentX.Length} covariates.", nameof(treatmentX));
        }

        var unadjusted = WelchTest.Compare(controlY, treatmentY, alpha);
        var control = CoMoments.Of(controlY, controlX);
        var treatment = CoMoments.Of(treatmentY, treatmentX);
        if (!control.IsFinite || !treatment.IsFinite)
        {
            var reason = unadjusted.IsDefined ? "A covariate value is NaN or infinite (or the moments overflow)." : unadjusted.Reason!;
            return new CupedResult(Undefined(controlY.Length, treatmentY.Length, reason), unadjusted, 0, 0);
        }

        var squaresX = control.SquaresX + treatment.SquaresX;
        var theta = squaresX > 0.0 ? (control.CrossProducts + treatment.CrossProducts) / squaresX : 0.0;
        if (!double.IsFinite(theta))
        {
            theta = 0.0;
        }

        var count = control.Count + treatment.Count;
        var meanX = count == 0 ? 0.0 : ((control.Count * control.MeanX) + (treatment.Count * treatment.MeanX)) / count;
        var adjustedControl = AdjustedSummary(controlY, controlX, theta, meanX);
        var adjustedTreatment = AdjustedSummary(treatmentY, treatmentX, theta, meanX);
        if (!SampleSummary.IsValid(adjustedControl) || !SampleSummary.IsValid(adjustedTreatment))
        {
            return new CupedResult(Undefined(controlY.Length, treatmentY.Length, "The adjusted values overflow double precision."), unadjusted, 0, 0);
        }

        var adjusted = WelchTest.Compare(adjustedControl, adjustedTreatment, alpha);
        var squaresY = control.SquaresY + treatment.SquaresY;
        var squaresAdjusted = (Math.Max(0, adjustedControl.Count - 1) * adjustedControl.Variance)
            + (Math.Max(0, adjustedTreatment.Count - 1) * adjustedTreatment.Variance);
        var reduction = squaresY > 0.0 ? Math.Clamp(1.0 - (squaresAdjusted / squaresY), 0.0, 1.0) : 0.0;
        return new CupedResult(adjusted, unadjusted, theta, double.IsFinite(reduction) ? reduction : 0.0);
    }

    /// <summary>An undefined adjusted comparison: counts only, so no unadjusted number passes for an adjusted one.</summary>
    private static MeanComparison Undefined(int controlCount, int treatmentCount, string reason) =>
        MeanComparison.Undefined(new SampleSummary(controlCount, 0, 0), new SampleSummary(treatmentCount, 0, 0), reason);

    private static SampleSummary AdjustedSummary(ReadOnlySpan<double> y, ReadOnlySpan<double> x, double theta, double meanX)
    {
        var mean = 0.0;
        var squares = 0.0;
        for (var i = 0; i < y.Length; i++)
        {
            var value = y[i] - (theta * (x[i] - meanX));
            var delta = value - mean;
            mean += delta / (i + 1);
            squares += delta * (value - mean);
        }

        return new SampleSummary(y.Length, mean, y.Length < 2 ? 0.0 : squares / (y.Length - 1));
    }

    /// <summary>Means and centred second moments of (Y, X) in one group, by Welford's bivariate update.</summary>
    private readonly record struct CoMoments(long Count, double MeanY, double MeanX, double SquaresY, double SquaresX, double CrossProducts)
    {
        public bool IsFinite =>
            double.IsFinite(MeanY) && double.IsFinite(MeanX) && double.IsFinite(SquaresY) && double.IsFinite(SquaresX) && double.IsFinite(CrossProducts);

        public static CoMoments Of(ReadOnlySpan<double> y, ReadOnlySpan<double> x)
        {
            double meanY = 0, meanX = 0, squaresY = 0, squaresX = 0, cross = 0;
            for (var i = 0; i < y.Length; i++)
            {
                var deltaY = y[i] - meanY;
                var deltaX = x[i] - meanX;
                meanY += deltaY / (i + 1);
                meanX += deltaX / (i + 1);
                squaresY += deltaY * (y[i] - meanY);
                squaresX += deltaX * (x[i] - meanX);
                cross += deltaY * (x[i] - meanX);
            }

            return new CoMoments(y.Length, meanY, meanX, squaresY, squaresX, cross);
        }
    }
}
