namespace Ranking.Crm;

/// <summary>One bin of a reliability diagram: the rows whose predicted probability fell in <c>[Lower, Upper)</c>.</summary>
/// <param name="Count">Rows in the bin.</param>
/// <param name="MeanPredicted">Mean predicted probability in the bin; NaN for an empty bin.</param>
/// <param name="ObservedRate">Share of positives in the bin; NaN for an empty bin.</param>
public sealed record ReliabilityBin(double Lower, double Upper, int Count, double MeanPredicted, double ObservedRate);

/// <summary>How well predicted probabilities match observed rates.</summary>
/// <param name="Bins">Equal-width bins over [0, 1]; the last bin includes 1.</param>
/// <param name="ExpectedCalibrationError">ECE: <c>Σ_b (n_b / n) · |mean predicted_b − observed rate_b|</c> over non-empty bins.</param>
/// <param name="Brier">Mean squared error of the probabilities against the 0/1 labels.</param>
/// <param name="MeanPredicted">Mean predicted probability over all rows.</param>
/// <param name="ObservedRate">Share of positive labels (the base rate).</param>
public sealed record CalibrationReport(
    IReadOnlyList<ReliabilityBin> Bins, double ExpectedCalibrationError, double Brier, double MeanPredicted, double ObservedRate);

/// <summary>Ranking and calibration metrics of a binary probability model (AUC, average precision, reliability).</summary>
public static class PropensityMetrics
{
    /// <summary>
    /// ROC AUC: the probability that a random positive scores above a random negative, ties counting one half
    /// (the Mann-Whitney statistic with mid-ranks).
    /// </summary>
    /// <returns>NaN when there are no positives or no negatives (AUC is undefined).</returns>
    /// <exception cref="ArgumentException">Scores and labels differ in length, or a score is NaN.</exception>
    public static double Auc(ReadOnlySpan<double> scores, ReadOnlySpan<bool> labels)
    {
        var order = Order(scores, labels, descending: false);
        long positives = 0;
        double rankSum = 0;
        var i = 0;
        while (i < order.Length)
        {
            var j = i;
            while (j + 1 < order.Length && scores[order[j + 1]] == scores[order[i]])
            {
                j++;
            }

            // Ranks i+1 .. j+1 share their mean.
            var midRank = (i + j + 2) / 2.0;
            for (var k = i; k <= j; k++)
            {
                if (labels[order[k]])
                {
                    positives++;
                    rankSum += midRank;
                }
            }

            i = j + 1;
        }

        long negatives = order.Length - positives;
        if (positives == 0 || negatives == 0)
        {
            return double.NaN;
        }

        return (rankSum - (positives * (positives + 1) / 2.0)) / ((double)positives * negatives);
    }

    /// <summary>
    /// Average precision (the area under the precision-recall curve as scikit-learn's
    /// <c>average_precision_score</c> defines it): <c>Σ_k (R_k − R_{k−1}) · P_k</c> over the thresholds at each distinct
    /// score, highest first, so tied scores enter together.
    /// </summary>
    /// <returns>NaN when there are no positives.</returns>
    /// <exception cref="ArgumentException">Scores and labels differ in length, or a score is NaN.</exception>
    public static double AveragePrecision(ReadOnlySpan<double> scores, ReadOnlySpan<bool> labels)
    {
        var order = Order(scores, labels, descending: true);
        var positives = 0;
        foreach (var label in labels)
        {
            positives += label ? 1 : 0;
        }

        if (positives == 0)
        {
            return double.NaN;
        }

        double ap = 0;
        var truePositives = 0;
        var i = 0;
        while (i < order.Length)
        {
            var j = i;
            var groupPositives = labels[order[i]] ? 1 : 0;
            while (j + 1 < order.Length && scores[order[j + 1]] == scores[order[i]])
            {
                j++;
                groupPositives += labels[order[j]] ? 1 : 0;
            }

            truePositives += groupPositives;
            var precision = (double)truePositives / (j + 1);
            ap += (double)groupPositives / positives * precision;
            i = j + 1;
        }

        return ap;
    }

    /// <summary>A reliability diagram over <paramref name="bins"/> equal-width bins, with ECE and Brier score.</summary>
    /// <returns>For no rows: empty bins, and NaN for every summary.</returns>
    /// <exception cref="ArgumentException">Lengths differ, or a probability is outside [0, 1] or NaN.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="bins"/> is below 1.</exception>
    public static CalibrationReport Calibration(ReadOnlySpan<double> probabilities, ReadOnlySpan<bool> labels, int bins = 10)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bins, 1);
        if (probabilities.Length != labels.Length)
        {
            throw new ArgumentException($"{probabilities.Length} probabilities for {labels.Length} labels.", nameof(labels));
        }

        var counts = new int[bins];
        var sums = new double[bins];
        var hits = new int[bins];
        double brier = 0, total = 0;
        var positives = 0;
        for (var i = 0; i < probabilities.Length; i++)
        {
            var p = probabilities[i];
            if (!(p >= 0 && p <= 1))
            {
                throw new ArgumentException($"Probability {p} at row {i} is not in [0, 1].", nameof(probabilities));
            }

            var b = Math.Min(bins - 1, (int)(p * bins));
            var y = labels[i] ? 1 : 0;
            counts[b]++;
            sums[b] += p;
            hits[b] += y;
            brier += (p - y) * (p - y);
            total += p;
            positives += y;
        }

        var n = probabilities.Length;
        var result = new ReliabilityBin[bins];
        double ece = 0;
        for (var b = 0; b < bins; b++)
        {
            var mean = counts[b] == 0 ? double.NaN : sums[b] / counts[b];
            var rate = counts[b] == 0 ? double.NaN : (double)hits[b] / counts[b];
            result[b] = new ReliabilityBin((double)b / bins, (double)(b + 1) / bins, counts[b], mean, rate);
            if (counts[b] > 0)
            {
                ece += (double)counts[b] / n * Math.Abs(mean - rate);
            }
        }

        return n == 0
            ? new CalibrationReport(result, double.NaN, double.NaN, double.NaN, double.NaN)
            : new CalibrationReport(result, ece, brier / n, total / n, (double)positives / n);
    }

    private static int[] Order(ReadOnlySpan<double> scores, ReadOnlySpan<bool> labels, bool descending)
    {
        if (scores.Length != labels.Length)
        {
            throw new ArgumentException($"{scores.Length} scores for {labels.Length} labels.", nameof(labels));
        }

        var keys = new double[scores.Length];
        var order = new int[scores.Length];
        for (var i = 0; i < scores.Length; i++)
        {
            if (double.IsNaN(scores[i]))
            {
                throw new ArgumentException($"Score at row {i} is NaN.", nameof(scores));
            }

            keys[i] = descending ? -scores[i] : scores[i];
            order[i] = i;
        }

        Array.Sort(keys, order);
        return order;
    }
}
