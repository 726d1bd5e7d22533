namespace Ranking.Crm;

/// <summary>
/// Points of a Qini or uplift curve: after targeting the <see cref="Targeted"/>[j] highest-scored rows, the incremental
/// gain is <see cref="Gain"/>[j]. Starts at (0, 0); then one point per distinct score, at the end of its tie group.
/// </summary>
public sealed class GainCurve
{
    public GainCurve(double[] targeted, double[] gain)
    {
        ArgumentNullException.ThrowIfNull(targeted);
        ArgumentNullException.ThrowIfNull(gain);
        if (targeted.Length != gain.Length)
        {
            throw new ArgumentException($"{targeted.Length} x values and {gain.Length} y values.", nameof(gain));
        }

        Targeted = targeted;
        Gain = gain;
    }

    /// <summary>The x values: how many rows are targeted (non-decreasing).</summary>
    public double[] Targeted { get; }

    /// <summary>The y values: the incremental gain at that depth.</summary>
    public double[] Gain { get; }

    /// <summary>The area under the curve by the trapezoidal rule (as <c>sklearn.metrics.auc</c>); 0 for fewer than 2 points.</summary>
    public double Area()
    {
        var area = 0.0;
        for (var j = 1; j < Targeted.Length; j++)
        {
            area += (Targeted[j] - Targeted[j - 1]) * (Gain[j] + Gain[j - 1]) / 2;
        }

        return area;
    }
}

/// <summary>A metric's value on the data and a bootstrap percentile interval around it.</summary>
/// <param name="Value">The metric on the data as given.</param>
/// <param name="Lower">The lower percentile of the resampled values (NaN when every resample was NaN).</param>
/// <param name="Upper">The upper percentile of the resampled values.</param>
/// <param name="ValidResamples">Resamples whose metric was defined (not NaN) and went into the percentiles.</param>
public sealed record MetricInterval(double Value, double Lower, double Upper, int ValidResamples);

/// <summary>The uplift metrics of one set of scores, each with a bootstrap interval from the same resamples.</summary>
/// <param name="QiniAuc">Null when the outcome is not binary (the normalisation needs 0/1 outcomes).</param>
/// <param name="UpliftAuc">Null when the outcome is not binary.</param>
public sealed record UpliftEvaluation(
    double K, MetricInterval UpliftAtK, MetricInterval? QiniAuc, MetricInterval? UpliftAuc, int Resamples, int Seed, double Confidence);

/// <summary>
/// Uplift evaluation metrics as scikit-uplift (<c>sklift.metrics</c>, version 0.5) defines them: <c>uplift_at_k</c>
/// with strategy "overall", <c>qini_curve</c>, <c>uplift_curve</c>, <c>perfect_qini_curve</c>,
/// <c>perfect_uplift_curve</c>, <c>qini_auc_score</c> and <c>uplift_auc_score</c>; plus bootstrap intervals.
/// </summary>
/// <remarks>
/// <para><b>Ordering and ties.</b> Rows are ranked by descending score. The curves take one point per distinct score
/// (at the end of each tie group), so the order inside a tie does not matter to them. <see cref="UpliftAtK"/> cuts at a
/// row count and can split a tie group; there, as numpy's reversed stable argsort does, the row that comes later in
/// the input is ranked first.</para>
/// <para><b>Inputs.</b> Three spans of equal length: outcome (y), uplift score, treatment flag. Scores must not be NaN
/// (an <see cref="ArgumentException"/>); outcomes must be finite. The curves and uplift@k accept any outcome (a
/// continuous spend works); the normalised areas need a binary one (0/1), as in scikit-uplift. An empty arm is
/// allowed: a ratio over an empty group is taken as 0 in the curves, as there.</para>
/// <para><b>Definitions</b>, with the top rows up to a threshold holding N_T treated and N_C control rows whose
/// outcomes sum to Y_T and Y_C, N = N_T + N_C:</para>
/// <list type="bullet">
/// <item><description>Qini curve: Y_T − Y_C·N_T/N_C (0 in place of N_T/N_C when N_C = 0).</description></item>
/// <item><description>Uplift curve: (Y_T/N_T − Y_C/N_C)·N (each ratio 0 when its group is empty).</description></item>
/// <item><description>Normalised area: (A − B)/(P − B), where A is the model's area, P the perfect curve's area, and B
/// the area of the straight line from (0, 0) to the perfect curve's last point (random targeting).</description></item>
/// </list>
/// </remarks>
public static class UpliftMetrics
{
    /// <summary>
    /// scikit-uplift's <c>uplift_at_k(strategy="overall")</c>: take the top ⌊n·k⌋ rows by score (both arms together),
    /// then the mean outcome of the treated rows among them minus the mean outcome of the control rows among them.
    /// </summary>
    /// <param name="k">The share of all rows, strictly between 0 and 1.</param>
    /// <returns>NaN when the top rows hold no treated or no control row (numpy's mean of nothing).</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="k"/> is not in (0, 1).</exception>
    public static double UpliftAtK(ReadOnlySpan<double> outcome, ReadOnlySpan<double> uplift, ReadOnlySpan<bool> treatment, double k = 0.3)
    {
        Check(outcome, uplift, treatment);
        CheckK(k);
        return TopKUplift(Rank(uplift), outcome, treatment, [], outcome.Length, k);
    }

    /// <summary>scikit-uplift's <c>qini_curve</c>.</summary>
    public static GainCurve QiniCurve(ReadOnlySpan<double> outcome, ReadOnlySpan<double> uplift, ReadOnlySpan<bool> treatment)
    {
        Check(outcome, uplift, treatment);
        var points = new List<(double, double)>();
        Walk(Rank(uplift), uplift, outcome, treatment, [], qini: true, points);
        return ToCurve(points);
    }

    /// <summary>scikit-uplift's <c>uplift_curve</c>.</summary>
    public static GainCurve UpliftCurve(ReadOnlySpan<double> outcome, ReadOnlySpan<double> uplift, ReadOnlySpan<bool> treatment)
    {
        Check(outcome, uplift, treatment);
        var points = new List<(double, double)>();
        Walk(Rank(uplift), uplift, outcome, treatment, [], qini: false, points);
        return ToCurve(points);
    }

    /// <summary>
    /// scikit-uplift's <c>perfect_qini_curve</c>. With <paramref name="negativeEffect"/> (the default), the Qini curve of
    /// the oracle score y·w − y·(1 − w): treated responders first, control responders last. Without it, the three points
    /// (0, 0), (r, r), (n, r) with r = Y_T − N_T·Y_C/N_C over all rows — scikit-uplift's definition, which mixes a gain
    /// into the x axis; kept as it is for comparability.
    /// </summary>
    /// <exception cref="ArgumentException">The outcome is not binary.</exception>
    public static GainCurve PerfectQiniCurve(ReadOnlySpan<double> outcome, ReadOnlySpan<bool> treatment, bool negativeEffect = true)
    {
        Check(outcome, outcome, treatment);
        RequireBinary(outcome);
        var points = new List<(double, double)>();
        if (negativeEffect)
        {
            var oracle = QiniOracle(outcome, treatment);
            Walk(Rank(oracle), oracle, outcome, treatment, [], qini: true, points);
        }
        else
        {
            var r = Totals(outcome, treatment, []).QiniEnd;
            points.AddRange([(0, 0), (r, r), (outcome.Length, r)]);
        }

        return ToCurve(points);
    }

    /// <summary>
    /// scikit-uplift's <c>perfect_uplift_curve</c>: the uplift curve of the score 2·[y = w] + s, where s = y when the
    /// control responders outnumber the treated non-responders, else s = w.
    /// </summary>
    /// <exception cref="ArgumentException">The outcome is not binary.</exception>
    public static GainCurve PerfectUpliftCurve(ReadOnlySpan<double> outcome, ReadOnlySpan<bool> treatment)
    {
        Check(outcome, outcome, treatment);
        RequireBinary(outcome);
        var totals = Totals(outcome, treatment, []);
        var oracle = UpliftOracle(outcome, treatment, byOutcome: totals.ControlResponders > totals.TreatedNonResponders);
        var points = new List<(double, double)>();
        Walk(Rank(oracle), oracle, outcome, treatment, [], qini: false, points);
        return ToCurve(points);
    }

    /// <summary>
    /// scikit-uplift's <c>qini_auc_score</c>: the Qini curve's area above the random line, over the perfect Qini curve's.
    /// 1 for the oracle ranking, about 0 for a random one, negative for a ranking worse than random.
    /// </summary>
    /// <returns>NaN or ±∞ when the perfect curve has no area above the random line (for example, no responders).</returns>
    /// <exception cref="ArgumentException">The outcome is not binary, or the inputs are inconsistent.</exception>
    public static double QiniAucScore(
        ReadOnlySpan<double> outcome, ReadOnlySpan<double> uplift, ReadOnlySpan<bool> treatment, bool negativeEffect = true)
    {
        Check(outcome, uplift, treatment);
        RequireBinary(outcome);
        var oracle = QiniOracle(outcome, treatment);
        return QiniAuc(new Ranked(Rank(uplift), uplift.ToArray()), new Ranked(Rank(oracle), oracle), outcome, treatment, [], negativeEffect);
    }

    /// <summary>
    /// scikit-uplift's <c>uplift_auc_score</c> (normalised AUUC): the uplift curve's area above the random line, over the
    /// perfect uplift curve's.
    /// </summary>
    /// <returns>NaN or ±∞ when the perfect curve has no area above the random line.</returns>
    /// <exception cref="ArgumentException">The outcome is not binary, or the inputs are inconsistent.</exception>
    public static double UpliftAucScore(ReadOnlySpan<double> outcome, ReadOnlySpan<double> uplift, ReadOnlySpan<bool> treatment)
    {
        Check(outcome, uplift, treatment);
        RequireBinary(outcome);
        return UpliftAuc(new Ranked(Rank(uplift), uplift.ToArray()), UpliftOracles(outcome, treatment), outcome, treatment, []);
    }

    /// <summary>
    /// Uplift@k, normalised Qini AUC and normalised AUUC with percentile bootstrap intervals. Each resample draws n rows
    /// with replacement (uniformly over all rows, not per arm) and recomputes every metric on it, scores held fixed:
    /// the interval reflects the evaluation sample, not the variance of fitting the model.
    /// </summary>
    /// <param name="resamples">Bootstrap resamples (at least 1).</param>
    /// <param name="seed">Seeds <see cref="Random"/>; the same seed and inputs give the same intervals.</param>
    /// <param name="confidence">The interval's coverage in (0, 1), e.g. 0.95 for the 2.5th and 97.5th percentiles
    /// (linear interpolation, as numpy's default).</param>
    /// <remarks>Resamples where a metric is NaN (an arm missing from the top k) are left out of its percentiles and
    /// counted in <see cref="MetricInterval.ValidResamples"/>. For a non-binary outcome only uplift@k is reported.</remarks>
    public static UpliftEvaluation Evaluate(
        ReadOnlySpan<double> outcome,
        ReadOnlySpan<double> uplift,
        ReadOnlySpan<bool> treatment,
        double k = 0.3,
        int resamples = 1000,
        int seed = 42,
        double confidence = 0.95)
    {
        Check(outcome, uplift, treatment);
        CheckK(k);
        ArgumentOutOfRangeException.ThrowIfLessThan(resamples, 1);
        if (!(confidence > 0 && confidence < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(confidence), confidence, "The confidence must be in (0, 1).");
        }

        var n = outcome.Length;
        var binary = IsBinary(outcome);
        var model = new Ranked(Rank(uplift), uplift.ToArray());
        Ranked? qiniOracle = null;
        (Ranked ByOutcome, Ranked ByTreatment)? upliftOracles = null;
        if (binary)
        {
            var oracle = QiniOracle(outcome, treatment);
            qiniOracle = new Ranked(Rank(oracle), oracle);
            upliftOracles = UpliftOracles(outcome, treatment);
        }

        var atK = new double[resamples];
        var qini = binary ? new double[resamples] : null;
        var auuc = binary ? new double[resamples] : null;
        var weights = new int[n];
        var random = new Random(seed);
        for (var b = 0; b < resamples; b++)
        {
            Array.Clear(weights);
            for (var draw = 0; draw < n; draw++)
            {
                weights[random.Next(n)]++;
            }

            atK[b] = TopKUplift(model.Order, outcome, treatment, weights, n, k);
            if (binary)
            {
                qini![b] = QiniAuc(model, qiniOracle!, outcome, treatment, weights, negativeEffect: true);
                auuc![b] = UpliftAuc(model, upliftOracles!.Value, outcome, treatment, weights);
            }
        }

        var tail = (1 - confidence) / 2;
        return new UpliftEvaluation(
            k,
            Percentiles(TopKUplift(model.Order, outcome, treatment, [], n, k), atK, tail),
            binary ? Percentiles(QiniAuc(model, qiniOracle!, outcome, treatment, [], negativeEffect: true), qini!, tail) : null,
            binary ? Percentiles(UpliftAuc(model, upliftOracles!.Value, outcome, treatment, []), auuc!, tail) : null,
            resamples,
            seed,
            confidence);
    }

    // ---- internals: every metric is a walk over a fixed ranking with optional per-row weights (bootstrap counts) ----

    private sealed record Ranked(int[] Order, double[] Scores);

    private readonly record struct Sums(double TreatedRows, double ControlRows, double TreatedOutcome, double ControlOutcome,
        double ControlResponders, double TreatedNonResponders)
    {
        public double QiniEnd => TreatedOutcome - ControlOutcome * (ControlRows != 0 ? TreatedRows / ControlRows : 0);
    }

    private static double QiniAuc(Ranked model, Ranked oracle, ReadOnlySpan<double> y, ReadOnlySpan<bool> t, ReadOnlySpan<int> w, bool negativeEffect)
    {
        var actual = Walk(model.Order, model.Scores, y, t, w, qini: true, null);
        double perfect, n, end;
        if (negativeEffect)
        {
            (perfect, n, end) = WalkWithEnd(oracle, y, t, w, qini: true);
        }
        else
        {
            var totals = Totals(y, t, w);
            end = totals.QiniEnd;
            n = totals.TreatedRows + totals.ControlRows;
            perfect = Area([(0, 0), (end, end), (n, end)]);
        }

        var baseline = n * end / 2;
        return (actual - baseline) / (perfect - baseline);
    }

    private static double UpliftAuc(Ranked model, (Ranked ByOutcome, Ranked ByTreatment) oracles, ReadOnlySpan<double> y, ReadOnlySpan<bool> t, ReadOnlySpan<int> w)
    {
        var totals = Totals(y, t, w);
        var oracle = totals.ControlResponders > totals.TreatedNonResponders ? oracles.ByOutcome : oracles.ByTreatment;
        var actual = Walk(model.Order, model.Scores, y, t, w, qini: false, null);
        var (perfect, n, end) = WalkWithEnd(oracle, y, t, w, qini: false);
        var baseline = n * end / 2;
        return (actual - baseline) / (perfect - baseline);
    }

    private static (double Area, double N, double End) WalkWithEnd(Ranked ranked, ReadOnlySpan<double> y, ReadOnlySpan<bool> t, ReadOnlySpan<int> w, bool qini)
    {
        var points = new List<(double X, double Y)>(8);
        var area = Walk(ranked.Order, ranked.Scores, y, t, w, qini, points, keepLastOnly: true);
        var last = points[^1];
        return (area, last.X, last.Y);
    }

    /// <summary>
    /// Walks the ranking, emitting a point at the end of each tie group, and returns the trapezoidal area from (0, 0).
    /// With <paramref name="keepLastOnly"/>, only the final point is kept in <paramref name="points"/>.
    /// </summary>
    private static double Walk(
        int[] order, ReadOnlySpan<double> scores, ReadOnlySpan<double> y, ReadOnlySpan<bool> t, ReadOnlySpan<int> w, bool qini,
        List<(double X, double Y)>? points, bool keepLastOnly = false)
    {
        double nT = 0, nC = 0, yT = 0, yC = 0, area = 0, prevX = 0, prevY = 0;
        if (points is not null && !keepLastOnly)
        {
            points.Add((0, 0));
        }

        for (var p = 0; p < order.Length; p++)
        {
            var i = order[p];
            var weight = w.IsEmpty ? 1 : w[i];
            if (t[i])
            {
                nT += weight;
                yT += weight * y[i];
            }
            else
            {
                nC += weight;
                yC += weight * y[i];
            }

            if (p + 1 < order.Length && scores[order[p + 1]] == scores[i])
            {
                continue;
            }

            var x = nT + nC;
            var gain = qini
                ? yT - yC * (nC != 0 ? nT / nC : 0)
                : ((nT != 0 ? yT / nT : 0) - (nC != 0 ? yC / nC : 0)) * x;
            area += (x - prevX) * (gain + prevY) / 2;
            prevX = x;
            prevY = gain;
            if (points is not null && !keepLastOnly)
            {
                points.Add((x, gain));
            }
        }

        if (points is not null && keepLastOnly)
        {
            points.Add((prevX, prevY));
        }

        return area;
    }

    private static double TopKUplift(int[] order, ReadOnlySpan<double> y, ReadOnlySpan<bool> t, ReadOnlySpan<int> w, int n, double k)
    {
        var remaining = (long)(n * k);
        double nT = 0, nC = 0, yT = 0, yC = 0;
        for (var p = 0; p < order.Length && remaining > 0; p++)
        {
            var i = order[p];
            var take = Math.Min(w.IsEmpty ? 1 : w[i], remaining);
            remaining -= take;
            if (t[i])
            {
                nT += take;
                yT += take * y[i];
            }
            else
            {
                nC += take;
                yC += take * y[i];
            }
        }

        return (nT == 0 || nC == 0) ? double.NaN : yT / nT - yC / nC;
    }

    private static Sums Totals(ReadOnlySpan<double> y, ReadOnlySpan<bool> t, ReadOnlySpan<int> w)
    {
        double nT = 0, nC = 0, yT = 0, yC = 0, controlResponders = 0, treatedNonResponders = 0;
        for (var i = 0; i < y.Length; i++)
        {
            var weight = w.IsEmpty ? 1 : w[i];
            if (t[i])
            {
                nT += weight;
                yT += weight * y[i];
                treatedNonResponders += y[i] == 0 ? weight : 0;
            }
            else
            {
                nC += weight;
                yC += weight * y[i];
                controlResponders += y[i] == 1 ? weight : 0;
            }
        }

        return new Sums(nT, nC, yT, yC, controlResponders, treatedNonResponders);
    }

    // The oracle of perfect_qini_curve (negative_effect=True): y·w − y·(1 − w).
    private static double[] QiniOracle(ReadOnlySpan<double> y, ReadOnlySpan<bool> t)
    {
        var score = new double[y.Length];
        for (var i = 0; i < score.Length; i++)
        {
            score[i] = t[i] ? y[i] : -y[i];
        }

        return score;
    }

    // The oracle of perfect_uplift_curve: 2·[y = w] + (y or w).
    private static double[] UpliftOracle(ReadOnlySpan<double> y, ReadOnlySpan<bool> t, bool byOutcome)
    {
        var score = new double[y.Length];
        for (var i = 0; i < score.Length; i++)
        {
            var w = t[i] ? 1.0 : 0.0;
            score[i] = 2 * (y[i] == w ? 1 : 0) + (byOutcome ? y[i] : w);
        }

        return score;
    }

    private static (Ranked ByOutcome, Ranked ByTreatment) UpliftOracles(ReadOnlySpan<double> y, ReadOnlySpan<bool> t)
    {
        var byOutcome = UpliftOracle(y, t, byOutcome: true);
        var byTreatment = UpliftOracle(y, t, byOutcome: false);
        return (new Ranked(Rank(byOutcome), byOutcome), new Ranked(Rank(byTreatment), byTreatment));
    }

    // Descending score; within a tie, the later row first (numpy's argsort(kind="mergesort")[::-1]).
    private static int[] Rank(ReadOnlySpan<double> scores)
    {
        var keys = scores.ToArray();
        var order = new int[keys.Length];
        for (var i = 0; i < order.Length; i++)
        {
            order[i] = i;
        }

        Array.Sort(order, (a, b) =>
        {
            var byScore = keys[b].CompareTo(keys[a]);
            return byScore != 0 ? byScore : b.CompareTo(a);
        });
        return order;
    }

    private static double Area(ReadOnlySpan<(double X, double Y)> points)
    {
        var area = 0.0;
        for (var j = 1; j < points.Length; j++)
        {
            area += (points[j].X - points[j - 1].X) * (points[j].Y + points[j - 1].Y) / 2;
        }

        return area;
    }

    private static GainCurve ToCurve(List<(double X, double Y)> points)
    {
        var x = new double[points.Count];
        var y = new double[points.Count];
        for (var j = 0; j < points.Count; j++)
        {
            (x[j], y[j]) = points[j];
        }

        return new GainCurve(x, y);
    }

    private static MetricInterval Percentiles(double value, double[] samples, double tail)
    {
        var valid = new List<double>(samples.Length);
        foreach (var s in samples)
        {
            if (!double.IsNaN(s))
            {
                valid.Add(s);
            }
        }

        if (valid.Count == 0)
        {
            return new MetricInterval(value, double.NaN, double.NaN, 0);
        }

        valid.Sort();
        return new MetricInterval(value, Quantile(valid, tail), Quantile(valid, 1 - tail), valid.Count);
    }

    // numpy.percentile's default ("linear"): position q·(m − 1), interpolated between its neighbours.
    private static double Quantile(List<double> sorted, double q)
    {
        var position = q * (sorted.Count - 1);
        var below = (int)Math.Floor(position);
        var above = Math.Min(below + 1, sorted.Count - 1);
        return sorted[below] + (position - below) * (sorted[above] - sorted[below]);
    }

    private static bool IsBinary(ReadOnlySpan<double> outcome)
    {
        foreach (var v in outcome)
        {
            if (v is not (0 or 1))
            {
                return false;
            }
        }

        return true;
    }

    private static void RequireBinary(ReadOnlySpan<double> outcome)
    {
        if (!IsBinary(outcome))
        {
            throw new ArgumentException("This metric needs a binary (0/1) outcome, as scikit-uplift's does.", nameof(outcome));
        }
    }

    private static void CheckK(double k)
    {
        if (!(k > 0 && k < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(k), k, "k is a share of the rows, strictly between 0 and 1.");
        }
    }

    private static void Check(ReadOnlySpan<double> outcome, ReadOnlySpan<double> uplift, ReadOnlySpan<bool> treatment)
    {
        if (outcome.Length != uplift.Length || outcome.Length != treatment.Length)
        {
            throw new ArgumentException(
                $"{outcome.Length} outcomes, {uplift.Length} scores and {treatment.Length} treatment flags: they must match.");
        }

        for (var i = 0; i < outcome.Length; i++)
        {
            if (double.IsNaN(uplift[i]))
            {
                throw new ArgumentException($"The score of row {i} is NaN.", nameof(uplift));
            }

            if (!double.IsFinite(outcome[i]))
            {
                throw new ArgumentException($"The outcome of row {i} is {outcome[i]}.", nameof(outcome));
            }
        }
    }
}
