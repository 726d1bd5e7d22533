using Ranking.Domain;
using Ranking.Experiments.Statistics;

namespace Ranking.Experiments;

/// <summary>Users per variant against the shares they should have.</summary>
public sealed record VariantCount(string Variant, long Users, double ExpectedShare, double ObservedShare);

/// <summary>One metric of one variant against the control.</summary>
/// <param name="Welch">Welch's t-test on the per-user values (for <c>aov</c>: the delta-method ratio test).</param>
/// <param name="Cuped">The same with the pre-exposure value as covariate; null for ratio metrics.</param>
/// <param name="Bootstrap">Percentile bootstrap interval of the difference; null for ratio metrics.</param>
/// <param name="Sequential">Always-valid (mSPRT) p-value and confidence sequence; null for ratio metrics.</param>
/// <param name="AdjustedPValue">Welch p-value after Holm's correction over every metric and variant in the report.</param>
/// <param name="AdjustedPValueBh">The same after Benjamini–Hochberg.</param>
public sealed record MetricComparison(
    string Metric, string Variant, string Control, MeanComparison Welch, CupedResult? Cuped, BootstrapInterval? Bootstrap,
    SequentialResult? Sequential, double AdjustedPValue, double AdjustedPValueBh);

/// <summary>An experiment read at a moment. <see cref="Message"/> says why it is empty when it is.</summary>
public sealed record ExperimentReport(
    string Experiment, ExperimentStatus Status, DateTimeOffset AsOf, double Alpha, long ExposedUsers, string? Message,
    IReadOnlyList<VariantCount> Variants, SrmResult? SampleRatio, IReadOnlyList<MetricComparison> Metrics);

/// <summary>Turns outcomes into a report: every variant against the first (the control), for each metric asked.</summary>
public static class ExperimentReportBuilder
{
    public const int BootstrapResamples = 1000;

    /// <exception cref="ArgumentException">An unknown metric name (callers validate first).</exception>
    public static ExperimentReport Build(
        Experiment experiment, ExperimentOutcomes outcomes, IReadOnlyList<string> metrics, DateTimeOffset asOf, double alpha = 0.05)
    {
        foreach (var m in metrics)
        {
            if (!ExperimentMetric.IsKnown(m))
            {
                throw new ArgumentException($"Unknown metric '{m}'.", nameof(metrics));
            }
        }

        var total = outcomes.ExposedUsers;
        var shareSum = experiment.Variants.Sum(v => v.Share);
        var counts = new List<VariantCount>();
        var observed = new long[experiment.Variants.Count];
        var expected = new double[experiment.Variants.Count];
        for (var i = 0; i < experiment.Variants.Count; i++)
        {
            observed[i] = outcomes.ByVariant[i].Count;
            expected[i] = experiment.Variants[i].Share / shareSum;
            counts.Add(new VariantCount(experiment.Variants[i].Name, observed[i], expected[i], total == 0 ? 0 : (double)observed[i] / total));
        }

        if (total == 0)
        {
            return new ExperimentReport(experiment.Name, experiment.Status, asOf, alpha, 0,
                "No exposures yet: nothing to compare. Exposures are logged when a surface serves a user in the experiment.",
                counts, null, []);
        }

        var srm = SampleRatioMismatch.Test(observed, expected);
        var results = new List<(string Metric, int Variant, MeanComparison Welch, CupedResult? Cuped, BootstrapInterval? Boot, SequentialResult? Seq)>();
        foreach (var metric in metrics)
        {
            for (var v = 1; v < experiment.Variants.Count; v++)
            {
                if (metric == ExperimentMetric.AverageOrderValue)
                {
                    var ratio = DeltaMethod.CompareRatios(
                        outcomes.Values(0, ExperimentMetric.Revenue), outcomes.Values(0, ExperimentMetric.Orders),
                        outcomes.Values(v, ExperimentMetric.Revenue), outcomes.Values(v, ExperimentMetric.Orders), alpha);
                    results.Add((metric, v, ratio, null, null, null));
                    continue;
                }

                var controlY = outcomes.Values(0, metric);
                var treatmentY = outcomes.Values(v, metric);
                var welch = WelchTest.Compare(controlY, treatmentY, alpha);
                var cuped = Cuped.Compare(controlY, outcomes.Values(0, metric, pre: true), treatmentY, outcomes.Values(v, metric, pre: true), alpha);
                var boot = Bootstrap.DifferenceInMeans(controlY, treatmentY, BootstrapResamples, alpha, seed: 42);
                var seq = SequentialTest.Compare(welch.Control, welch.Treatment, alpha);
                results.Add((metric, v, welch, cuped, boot, seq));
            }
        }

        var p = results.Select(r => r.Welch.IsDefined ? r.Welch.PValue : 1.0).ToArray();
        var holm = MultipleComparisons.Holm(p);
        var bh = MultipleComparisons.BenjaminiHochberg(p);
        var comparisons = results.Select((r, i) => new MetricComparison(
            r.Metric, experiment.Variants[r.Variant].Name, experiment.Variants[0].Name, r.Welch, r.Cuped, r.Boot, r.Seq, holm[i], bh[i])).ToList();
        var message = srm.IsMismatch
            ? $"Sample ratio mismatch (p = {srm.PValue:0.######}): the split differs from the configured shares; do not trust the metrics until the cause is found."
            : null;
        return new ExperimentReport(experiment.Name, experiment.Status, asOf, alpha, total, message, counts, srm, comparisons);
    }
}
