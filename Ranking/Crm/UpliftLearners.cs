namespace Ranking.Crm;

/// <summary>A fitted uplift model: the predicted effect of treatment, E[Y | x, treated] − E[Y | x, control], per row.</summary>
public interface IUpliftModel
{
    /// <summary>One uplift per row of <paramref name="features"/> (empty for zero rows).</summary>
    /// <exception cref="ArgumentException">The columns differ (in number or name) from those the model was fitted on.</exception>
    double[] PredictUplift(FeatureMatrix features);
}

/// <summary>A way of fitting an <see cref="IUpliftModel"/> from a randomised (or at least unconfounded) campaign.</summary>
public interface IUpliftLearner
{
    /// <summary>A short name for reports, for example "T-learner".</summary>
    string Name { get; }

    /// <summary>Fits a model on one row per customer.</summary>
    /// <param name="treatment">True for treated rows, false for control; both must occur.</param>
    /// <param name="outcome">The outcome per row. When every value is 0 or 1 it is binary and the outcome models are
    /// classifiers (probabilities); otherwise they are regressors. It must be finite.</param>
    /// <exception cref="ArgumentException">Lengths differ, one arm is empty, or an outcome is NaN or infinite.</exception>
    IUpliftModel Fit(FeatureMatrix features, ReadOnlySpan<bool> treatment, ReadOnlySpan<double> outcome);
}

/// <summary>Where the X-learner's propensity g(x) = P(treated | x) comes from.</summary>
public enum PropensitySource
{
    /// <summary>The treated share of the training rows, the same for everyone: right for a randomised campaign.</summary>
    TreatmentShare,

    /// <summary>A boosted-tree classifier of treatment on the features, fitted on the training rows.</summary>
    Fitted,
}

/// <summary>
/// S-learner ("single model"): one outcome model on the features plus a treatment indicator column; the uplift is
/// the prediction with the indicator at 1 minus the prediction with it at 0.
/// </summary>
/// <remarks>Trees may split on the indicator rarely or never when the effect is small next to the baseline, so this
/// learner tends to shrink uplift towards zero.</remarks>
public sealed class SLearner(BoostedTreeOptions? trees = null) : IUpliftLearner
{
    /// <summary>The name of the appended indicator column.</summary>
    public const string TreatmentColumn = "__treatment";

    private readonly BoostedTreeOptions _trees = trees ?? BoostedTreeOptions.Default;

    public string Name => "S-learner";

    public IUpliftModel Fit(FeatureMatrix features, ReadOnlySpan<bool> treatment, ReadOnlySpan<double> outcome)
    {
        var binary = UpliftData.Validate(features, treatment, outcome);
        if (features.IndexOf(TreatmentColumn) >= 0)
        {
            throw new ArgumentException($"The features already have a column '{TreatmentColumn}'.", nameof(features));
        }

        var indicator = new float[treatment.Length];
        for (var i = 0; i < indicator.Length; i++)
        {
            indicator[i] = treatment[i] ? 1 : 0;
        }

        var model = BoostedTrees.Fit(features.AppendColumn(TreatmentColumn, indicator), UpliftData.Labels(outcome), binary, _trees);
        return new Model(features.ColumnNames, model);
    }

    private sealed class Model(IReadOnlyList<string> columns, BoostedTrees outcome) : IUpliftModel
    {
        public double[] PredictUplift(FeatureMatrix features)
        {
            UpliftData.CheckColumns(columns, features);
            var treated = outcome.Predict(features.AppendColumn(TreatmentColumn, 1f));
            var control = outcome.Predict(features.AppendColumn(TreatmentColumn, 0f));
            for (var i = 0; i < treated.Length; i++)
            {
                treated[i] -= control[i];
            }

            return treated;
        }
    }
}

/// <summary>
/// T-learner ("two models"): an outcome model μ1 fitted on treated rows and μ0 on control rows; uplift = μ1(x) − μ0(x).
/// </summary>
public sealed class TLearner(BoostedTreeOptions? trees = null) : IUpliftLearner
{
    private readonly BoostedTreeOptions _trees = trees ?? BoostedTreeOptions.Default;

    public string Name => "T-learner";

    public IUpliftModel Fit(FeatureMatrix features, ReadOnlySpan<bool> treatment, ReadOnlySpan<double> outcome)
    {
        var binary = UpliftData.Validate(features, treatment, outcome);
        var (treatedRows, controlRows) = UpliftData.Arms(treatment);
        var treated = BoostedTrees.Fit(features.SelectRows(treatedRows), UpliftData.Labels(outcome, treatedRows), binary, _trees);
        var control = BoostedTrees.Fit(features.SelectRows(controlRows), UpliftData.Labels(outcome, controlRows), binary, _trees);
        return new Model(features.ColumnNames, treated, control);
    }

    private sealed class Model(IReadOnlyList<string> columns, BoostedTrees treated, BoostedTrees control) : IUpliftModel
    {
        public double[] PredictUplift(FeatureMatrix features)
        {
            UpliftData.CheckColumns(columns, features);
            var uplift = treated.Predict(features);
            var baseline = control.Predict(features);
            for (var i = 0; i < uplift.Length; i++)
            {
                uplift[i] -= baseline[i];
            }

            return uplift;
        }
    }
}

/// <summary>
/// X-learner (Künzel, Sekhon, Bickel and Yu, 2019, "Metalearners for estimating heterogeneous treatment effects using
/// machine learning", PNAS 116(10)).
/// </summary>
/// <remarks>
/// <list type="number">
/// <item><description>Stage 1, as the T-learner: μ1 on treated rows, μ0 on control rows (classifiers for a binary
/// outcome, regressors otherwise).</description></item>
/// <item><description>Imputed effects: D1 = Y − μ0(x) on treated rows, D0 = μ1(x) − Y on control rows.</description></item>
/// <item><description>Stage 2: regressors τ1 on (x, D1) over treated rows and τ0 on (x, D0) over control rows.</description></item>
/// <item><description>τ(x) = g(x)·τ0(x) + (1 − g(x))·τ1(x), with the propensity g from <see cref="PropensitySource"/>: when
/// treated rows are few (g small), τ leans on τ1, whose imputed effects rest on μ0 from the large control arm.</description></item>
/// </list>
/// </remarks>
public sealed class XLearner(BoostedTreeOptions? trees = null, PropensitySource propensity = PropensitySource.TreatmentShare) : IUpliftLearner
{
    private readonly BoostedTreeOptions _trees = trees ?? BoostedTreeOptions.Default;

    public string Name => "X-learner";

    public PropensitySource Propensity { get; } = propensity;

    public IUpliftModel Fit(FeatureMatrix features, ReadOnlySpan<bool> treatment, ReadOnlySpan<double> outcome)
    {
        var binary = UpliftData.Validate(features, treatment, outcome);
        var (treatedRows, controlRows) = UpliftData.Arms(treatment);
        var treatedX = features.SelectRows(treatedRows);
        var controlX = features.SelectRows(controlRows);
        var mu1 = BoostedTrees.Fit(treatedX, UpliftData.Labels(outcome, treatedRows), binary, _trees);
        var mu0 = BoostedTrees.Fit(controlX, UpliftData.Labels(outcome, controlRows), binary, _trees);

        var d1 = mu0.Predict(treatedX);
        var imputed1 = new float[treatedRows.Length];
        for (var i = 0; i < imputed1.Length; i++)
        {
            imputed1[i] = (float)(outcome[treatedRows[i]] - d1[i]);
        }

        var d0 = mu1.Predict(controlX);
        var imputed0 = new float[controlRows.Length];
        for (var i = 0; i < imputed0.Length; i++)
        {
            imputed0[i] = (float)(d0[i] - outcome[controlRows[i]]);
        }

        var tau1 = BoostedTrees.Fit(treatedX, imputed1, binary: false, _trees);
        var tau0 = BoostedTrees.Fit(controlX, imputed0, binary: false, _trees);
        var share = (double)treatedRows.Length / treatment.Length;
        BoostedTrees? propensityModel = null;
        if (Propensity == PropensitySource.Fitted)
        {
            var labels = new float[treatment.Length];
            for (var i = 0; i < labels.Length; i++)
            {
                labels[i] = treatment[i] ? 1 : 0;
            }

            propensityModel = BoostedTrees.Fit(features, labels, binary: true, _trees);
        }

        return new Model(features.ColumnNames, tau1, tau0, share, propensityModel);
    }

    private sealed class Model(IReadOnlyList<string> columns, BoostedTrees tau1, BoostedTrees tau0, double share, BoostedTrees? propensity)
        : IUpliftModel
    {
        public double[] PredictUplift(FeatureMatrix features)
        {
            UpliftData.CheckColumns(columns, features);
            var fromTreated = tau1.Predict(features);
            var fromControl = tau0.Predict(features);
            var g = propensity?.Predict(features);
            for (var i = 0; i < fromTreated.Length; i++)
            {
                var weight = g?[i] ?? share;
                fromTreated[i] = weight * fromControl[i] + (1 - weight) * fromTreated[i];
            }

            return fromTreated;
        }
    }
}

/// <summary>
/// Class transformation (Jaskowski and Jaroszewicz, 2012, "Uplift modeling for clinical trial data", ICML workshop on
/// clinical data analysis): one classifier of Z = Y·W + (1 − Y)(1 − W), i.e. Z = 1 for treated responders and control
/// non-responders; uplift = 2·P(Z = 1 | x) − 1.
/// </summary>
/// <remarks>
/// The identity uplift = 2·P(Z = 1 | x) − 1 holds only when P(W = 1 | x) = 1/2, as in a 50/50 randomised campaign; with
/// another treated share the scores are biased (though often still usable for ranking). It needs a binary outcome.
/// </remarks>
public sealed class ClassTransformationLearner(BoostedTreeOptions? trees = null) : IUpliftLearner
{
    private readonly BoostedTreeOptions _trees = trees ?? BoostedTreeOptions.Default;

    public string Name => "Class transformation";

    /// <exception cref="ArgumentException">Also when the outcome is not binary (0/1).</exception>
    public IUpliftModel Fit(FeatureMatrix features, ReadOnlySpan<bool> treatment, ReadOnlySpan<double> outcome)
    {
        if (!UpliftData.Validate(features, treatment, outcome))
        {
            throw new ArgumentException("Class transformation needs a binary (0/1) outcome.", nameof(outcome));
        }

        var z = new float[outcome.Length];
        for (var i = 0; i < z.Length; i++)
        {
            z[i] = (outcome[i] == 1) == treatment[i] ? 1 : 0;
        }

        return new Model(features.ColumnNames, BoostedTrees.Fit(features, z, binary: true, _trees));
    }

    private sealed class Model(IReadOnlyList<string> columns, BoostedTrees classifier) : IUpliftModel
    {
        public double[] PredictUplift(FeatureMatrix features)
        {
            UpliftData.CheckColumns(columns, features);
            var p = classifier.Predict(features);
            for (var i = 0; i < p.Length; i++)
            {
                p[i] = 2 * p[i] - 1;
            }

            return p;
        }
    }
}

/// <summary>Checks and small conversions shared by the learners.</summary>
internal static class UpliftData
{
    /// <summary>Validates the training inputs; true when the outcome is binary (every value 0 or 1).</summary>
    public static bool Validate(FeatureMatrix features, ReadOnlySpan<bool> treatment, ReadOnlySpan<double> outcome)
    {
        ArgumentNullException.ThrowIfNull(features);
        if (treatment.Length != features.RowCount || outcome.Length != features.RowCount)
        {
            throw new ArgumentException(
                $"{features.RowCount} feature rows, {treatment.Length} treatment flags and {outcome.Length} outcomes: they must match.");
        }

        var treated = 0;
        var binary = true;
        for (var i = 0; i < outcome.Length; i++)
        {
            if (!double.IsFinite(outcome[i]))
            {
                throw new ArgumentException($"The outcome of row {i} is {outcome[i]}.", nameof(outcome));
            }

            binary &= outcome[i] is 0 or 1;
            treated += treatment[i] ? 1 : 0;
        }

        if (treated == 0 || treated == treatment.Length)
        {
            throw new ArgumentException("Both treated and control rows are needed.", nameof(treatment));
        }

        return binary;
    }

    public static (int[] Treated, int[] Control) Arms(ReadOnlySpan<bool> treatment)
    {
        var treatedCount = 0;
        foreach (var t in treatment)
        {
            treatedCount += t ? 1 : 0;
        }

        var treated = new int[treatedCount];
        var control = new int[treatment.Length - treatedCount];
        int ti = 0, ci = 0;
        for (var i = 0; i < treatment.Length; i++)
        {
            if (treatment[i])
            {
                treated[ti++] = i;
            }
            else
            {
                control[ci++] = i;
            }
        }

        return (treated, control);
    }

    public static float[] Labels(ReadOnlySpan<double> outcome)
    {
        var labels = new float[outcome.Length];
        for (var i = 0; i < labels.Length; i++)
        {
            labels[i] = (float)outcome[i];
        }

        return labels;
    }

    public static float[] Labels(ReadOnlySpan<double> outcome, ReadOnlySpan<int> rows)
    {
        var labels = new float[rows.Length];
        for (var i = 0; i < labels.Length; i++)
        {
            labels[i] = (float)outcome[rows[i]];
        }

        return labels;
    }

    public static void CheckColumns(IReadOnlyList<string> fitted, FeatureMatrix features)
    {
        ArgumentNullException.ThrowIfNull(features);
        var same = fitted.Count == features.ColumnCount;
        for (var c = 0; same && c < fitted.Count; c++)
        {
            same = string.Equals(fitted[c], features.ColumnNames[c], StringComparison.Ordinal);
        }

        if (!same)
        {
            throw new ArgumentException(
                $"The model was fitted on columns [{string.Join(", ", fitted)}]; got [{string.Join(", ", features.ColumnNames)}].",
                nameof(features));
        }
    }
}
