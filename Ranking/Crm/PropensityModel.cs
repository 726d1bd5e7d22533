using System.Text;
using Microsoft.ML;

namespace Ranking.Crm;

/// <summary>How a propensity model's raw probabilities are recalibrated.</summary>
public enum PropensityCalibration
{
    /// <summary>LightGBM's own probabilities (the sigmoid of the boosted log-odds), unchanged.</summary>
    None,

    /// <summary>
    /// Platt scaling <c>σ(A · logit(p) + B)</c> fitted on a held-out share of the training rows
    /// (<see cref="PropensityOptions.CalibrationShare"/>), which the trees then do not see.
    /// </summary>
    Platt,
}

/// <summary>Settings of <see cref="PropensityModel.Train(PropensityFeatures, IReadOnlyList{DateTimeOffset}, PropensityOptions?, CancellationToken)"/>.</summary>
public sealed record PropensityOptions
{
    /// <summary>The label window after a cut: an order of the target in <c>[T, T + Horizon)</c>. 30 days by default.</summary>
    public TimeSpan Horizon { get; init; } = TimeSpan.FromDays(30);

    /// <summary>
    /// The LightGBM set-up: 150 rounds of 8-leaf trees at learning rate 0.05, at least 50 rows per leaf, seed 42, one
    /// thread (so a fit is reproducible bit for bit; see <see cref="BoostedTreeOptions"/>). Small trees because a target
    /// has few positives (tens to a few hundred per cut on the demo); on the demo they beat 15-leaf, 200-round trees
    /// (docs/benchmarks/crm-propensity-contact.md).
    /// </summary>
    public BoostedTreeOptions Trees { get; init; } = new()
    {
        NumberOfIterations = 150, NumberOfLeaves = 8, LearningRate = 0.05, MinimumExampleCountPerLeaf = 50,
    };

    public PropensityCalibration Calibration { get; init; } = PropensityCalibration.None;

    /// <summary>Share (0-0.5) of training rows held out to fit the calibration, chosen with the trees' seed.</summary>
    public double CalibrationShare { get; init; } = 0.2;

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(Horizon, TimeSpan.Zero, nameof(Horizon));
        ArgumentNullException.ThrowIfNull(Trees, nameof(Trees));
        Trees.Validate();
        if (!(CalibrationShare > 0 && CalibrationShare <= 0.5))
        {
            throw new ArgumentOutOfRangeException(nameof(CalibrationShare), CalibrationShare, "The calibration share must be in (0, 0.5].");
        }
    }
}

/// <summary>
/// The probability that a user buys a target (category or brand) within a horizon, from
/// <see cref="PropensityFeatures"/> at a cut time: a LightGBM binary classifier through ML.NET, optionally Platt-calibrated.
/// </summary>
/// <remarks>
/// <para>Train on one or more earlier cuts and evaluate on a later one (a time split): the label windows of the training
/// cuts should end by the evaluation cut so that nothing of the test window is learned.</para>
/// <para>Determinism: one LightGBM thread, a fixed seed and LightGBM's deterministic mode (see
/// <see cref="BoostedTreeOptions"/>); the calibration hold-out is drawn from the same seed. The same rows and options
/// give the same model.</para>
/// <para>Training rows whose labels are all equal give a constant model (the label's value), since LightGBM cannot
/// fit one class.</para>
/// </remarks>
public sealed class PropensityModel
{
    private const string Magic = "ranking.crm.propensity";
    private const int Version = 1;

    private readonly ITransformer? _model;
    private readonly DataViewSchema? _schema;
    private readonly double _constant;
    private readonly double _plattA;
    private readonly double _plattB;
    private readonly MLContext _ml;

    private PropensityModel(
        PropensityTarget target, TimeSpan horizon, PropensityCalibration calibration, ITransformer? model, DataViewSchema? schema,
        double constant, double plattA, double plattB, MLContext ml)
    {
        Target = target;
        Horizon = horizon;
        Calibration = calibration;
        _model = model;
        _schema = schema;
        _constant = constant;
        _plattA = plattA;
        _plattB = plattB;
        _ml = ml;
    }

    public PropensityTarget Target { get; }

    public TimeSpan Horizon { get; }

    public PropensityCalibration Calibration { get; }

    /// <summary>True when the training labels were all equal and the model predicts a constant.</summary>
    public bool IsConstant => _model is null;

    /// <summary>The Platt slope and intercept (1 and 0 without calibration).</summary>
    public (double A, double B) Platt => (_plattA, _plattB);

    /// <summary>Builds the rows of every cut in <paramref name="cuts"/> and trains on all of them together.</summary>
    /// <exception cref="ArgumentException">No cuts, or no user has events before any cut.</exception>
    public static PropensityModel Train(
        PropensityFeatures features, IReadOnlyList<DateTimeOffset> cuts, PropensityOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(cuts);
        options ??= new PropensityOptions();
        options.Validate();
        if (cuts.Count == 0)
        {
            throw new ArgumentException("At least one training cut is needed.", nameof(cuts));
        }

        var built = new List<PropensityCut>(cuts.Count);
        foreach (var cut in cuts)
        {
            built.Add(features.Build(cut, options.Horizon, cancellationToken));
        }

        return Train(features.Target, built, options);
    }

    /// <summary>Trains on the rows of already built cuts (stacked in the given order).</summary>
    /// <exception cref="ArgumentException">No rows at all, or a matrix without the propensity columns.</exception>
    public static PropensityModel Train(PropensityTarget target, IReadOnlyList<PropensityCut> cuts, PropensityOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(cuts);
        options ??= new PropensityOptions();
        options.Validate();
        var rows = 0;
        foreach (var cut in cuts)
        {
            CheckColumns(cut.Features);
            rows += cut.Features.RowCount;
        }

        if (rows == 0)
        {
            throw new ArgumentException("The cuts hold no rows: no user has events before them.", nameof(cuts));
        }

        var columns = PropensityFeatures.ColumnNames.Count;
        var values = new float[rows * columns];
        var labels = new float[rows];
        var at = 0;
        foreach (var cut in cuts)
        {
            cut.Features.Values.CopyTo(values.AsSpan(at * columns));
            for (var i = 0; i < cut.Labels.Length; i++)
            {
                labels[at + i] = cut.Labels[i] ? 1f : 0f;
            }

            at += cut.Labels.Length;
        }

        return Fit(target, new FeatureMatrix(PropensityFeatures.ColumnNames, values), labels, options);
    }

    /// <summary>P(the user orders the target within <see cref="Horizon"/> after <paramref name="at"/>).</summary>
    /// <exception cref="ArgumentException">The features are for another target.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The user is not an index of the features' log.</exception>
    public double Predict(PropensityFeatures features, int user, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(features);
        CheckTarget(features);
        var row = new float[PropensityFeatures.ColumnNames.Count];
        features.Compute(user, at, row);
        return Predict(new FeatureMatrix(PropensityFeatures.ColumnNames, row))[0];
    }

    /// <summary>
    /// As <see cref="Predict(PropensityFeatures, int, DateTimeOffset)"/> by external id; a user the log does not know
    /// is scored as one without history (a cold-start probability, not an error).
    /// </summary>
    public double Predict(PropensityFeatures features, string userId, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(userId);
        CheckTarget(features);
        var row = new float[PropensityFeatures.ColumnNames.Count];
        features.Compute(userId, at, row);
        return Predict(new FeatureMatrix(PropensityFeatures.ColumnNames, row))[0];
    }

    /// <summary>One probability per row of a matrix with the <see cref="PropensityFeatures.ColumnNames"/> columns; empty for no rows.</summary>
    /// <exception cref="ArgumentException">The matrix has other columns.</exception>
    public double[] Predict(FeatureMatrix features)
    {
        ArgumentNullException.ThrowIfNull(features);
        CheckColumns(features);
        var result = new double[features.RowCount];
        if (_model is null)
        {
            result.AsSpan().Fill(_constant);
            return result;
        }

        if (features.RowCount == 0)
        {
            return result;
        }

        BoostedTrees.ReadColumn(_model.Transform(new FeatureMatrixDataView(features)), "Probability", result);

        if (Calibration == PropensityCalibration.Platt)
        {
            for (var i = 0; i < result.Length; i++)
            {
                result[i] = Sigmoid((_plattA * Logit(result[i])) + _plattB);
            }
        }

        return result;
    }

    /// <summary>Writes the model (target, horizon, calibration and the ML.NET model zip) to a stream; the stream stays open.</summary>
    public void Save(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        writer.Write(Magic);
        writer.Write(Version);
        writer.Write((int)Target.Kind);
        writer.Write(Target.Name);
        writer.Write(Horizon.Ticks);
        writer.Write((int)Calibration);
        writer.Write(_plattA);
        writer.Write(_plattB);
        writer.Write(_constant);
        writer.Write(PropensityFeatures.ColumnNames.Count);
        foreach (var name in PropensityFeatures.ColumnNames)
        {
            writer.Write(name);
        }

        if (_model is null)
        {
            writer.Write(0L);
            return;
        }

        using var zip = new MemoryStream();
        _ml.Model.Save(_model, _schema, zip);
        writer.Write(zip.Length);
        writer.Write(zip.GetBuffer(), 0, (int)zip.Length);
    }

    /// <summary>Reads a model written by <see cref="Save"/>.</summary>
    /// <exception cref="InvalidDataException">Not a propensity model, another version, or other feature columns.</exception>
    public static PropensityModel Load(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var reader = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true);
        if (reader.ReadString() != Magic)
        {
            throw new InvalidDataException("The stream does not hold a propensity model.");
        }

        var version = reader.ReadInt32();
        if (version != Version)
        {
            throw new InvalidDataException($"Propensity model version {version}; this build reads {Version}.");
        }

        var target = new PropensityTarget((PropensityTargetKind)reader.ReadInt32(), reader.ReadString());
        var horizon = TimeSpan.FromTicks(reader.ReadInt64());
        var calibration = (PropensityCalibration)reader.ReadInt32();
        var a = reader.ReadDouble();
        var b = reader.ReadDouble();
        var constant = reader.ReadDouble();
        var columns = reader.ReadInt32();
        if (columns != PropensityFeatures.ColumnNames.Count)
        {
            throw new InvalidDataException($"The model has {columns} feature columns; this build computes {PropensityFeatures.ColumnNames.Count}.");
        }

        for (var i = 0; i < columns; i++)
        {
            var name = reader.ReadString();
            if (name != PropensityFeatures.ColumnNames[i])
            {
                throw new InvalidDataException($"Feature column {i} is '{name}'; this build computes '{PropensityFeatures.ColumnNames[i]}'.");
            }
        }

        var length = reader.ReadInt64();
        var ml = new MLContext(0);
        if (length == 0)
        {
            return new PropensityModel(target, horizon, calibration, null, null, constant, a, b, ml);
        }

        using var zip = new MemoryStream(reader.ReadBytes(checked((int)length)));
        var model = ml.Model.Load(zip, out var schema);
        return new PropensityModel(target, horizon, calibration, model, schema, constant, a, b, ml);
    }

    private static PropensityModel Fit(PropensityTarget target, FeatureMatrix features, float[] labels, PropensityOptions options)
    {
        var trees = options.Trees;
        var ml = new MLContext(trees.Seed);
        int[] fitRows, calibrationRows;
        if (options.Calibration == PropensityCalibration.Platt)
        {
            (fitRows, calibrationRows) = HoldOut(labels.Length, options.CalibrationShare, trees.Seed);
        }
        else
        {
            fitRows = [.. Enumerable.Range(0, labels.Length)];
            calibrationRows = [];
        }

        var fitX = calibrationRows.Length == 0 ? features : features.SelectRows(fitRows);
        var fitY = Take(labels, fitRows);
        if (AllEqual(fitY))
        {
            return new PropensityModel(target, options.Horizon, PropensityCalibration.None, null, null, fitY.Length == 0 ? 0 : fitY[0], 1, 0, ml);
        }

        var data = new FeatureMatrixDataView(fitX, fitY, booleanLabel: true);
        var trainer = ml.BinaryClassification.Trainers.LightGbm(BoostedTrees.BinaryTrainerOptions(trees));
        ITransformer model = trainer.Fit(data);
        var raw = new PropensityModel(target, options.Horizon, PropensityCalibration.None, model, data.Schema, 0, 1, 0, ml);
        if (calibrationRows.Length == 0)
        {
            return raw;
        }

        var scores = raw.Predict(features.SelectRows(calibrationRows));
        var (a, b) = FitPlatt(scores, Take(labels, calibrationRows));
        return new PropensityModel(target, options.Horizon, PropensityCalibration.Platt, model, data.Schema, 0, a, b, ml);
    }

    /// <summary>
    /// Platt's fit of <c>σ(A · x + B)</c> with <c>x = logit(p)</c> by Newton's method on the log-loss, with Platt's
    /// smoothed targets <c>(N₊ + 1) / (N₊ + 2)</c> and <c>1 / (N₋ + 2)</c> so a separable hold-out does not diverge.
    /// </summary>
    internal static (double A, double B) FitPlatt(ReadOnlySpan<double> probabilities, ReadOnlySpan<float> labels)
    {
        double positives = 0;
        foreach (var y in labels)
        {
            positives += y;
        }

        var negatives = labels.Length - positives;
        if (positives == 0 || negatives == 0)
        {
            return (1, 0);
        }

        var hi = (positives + 1) / (positives + 2);
        var lo = 1 / (negatives + 2);
        double a = 1, b = 0;
        for (var iteration = 0; iteration < 50; iteration++)
        {
            // Gradient and Hessian of Σ −t log q − (1 − t) log(1 − q), q = σ(a x + b).
            double ga = 0, gb = 0, haa = 1e-9, hab = 0, hbb = 1e-9;
            for (var i = 0; i < probabilities.Length; i++)
            {
                var x = Logit(probabilities[i]);
                var t = labels[i] > 0 ? hi : lo;
                var q = Sigmoid((a * x) + b);
                var r = q - t;
                var w = q * (1 - q);
                ga += r * x;
                gb += r;
                haa += w * x * x;
                hab += w * x;
                hbb += w;
            }

            var det = (haa * hbb) - (hab * hab);
            if (det <= 0)
            {
                break;
            }

            var da = ((hbb * ga) - (hab * gb)) / det;
            var db = ((haa * gb) - (hab * ga)) / det;
            a -= da;
            b -= db;
            if (Math.Abs(da) + Math.Abs(db) < 1e-10)
            {
                break;
            }
        }

        return (a, b);
    }

    private static (int[] Fit, int[] HeldOut) HoldOut(int rows, double share, int seed)
    {
        var random = new Random(seed);
        var fit = new List<int>(rows);
        var held = new List<int>((int)(rows * share) + 1);
        for (var i = 0; i < rows; i++)
        {
            (random.NextDouble() < share ? held : fit).Add(i);
        }

        return ([.. fit], [.. held]);
    }

    private static float[] Take(float[] values, int[] rows)
    {
        var result = new float[rows.Length];
        for (var i = 0; i < rows.Length; i++)
        {
            result[i] = values[rows[i]];
        }

        return result;
    }

    private static bool AllEqual(ReadOnlySpan<float> labels)
    {
        for (var i = 1; i < labels.Length; i++)
        {
            if (labels[i] != labels[0])
            {
                return false;
            }
        }

        return true;
    }

    private void CheckTarget(PropensityFeatures features)
    {
        if (features.Target != Target)
        {
            throw new ArgumentException($"The model predicts {Target}; the features are for {features.Target}.", nameof(features));
        }
    }

    private static void CheckColumns(FeatureMatrix features)
    {
        var names = PropensityFeatures.ColumnNames;
        if (features.ColumnCount != names.Count)
        {
            throw new ArgumentException($"Expected the {names.Count} propensity columns, got {features.ColumnCount}.", nameof(features));
        }

        for (var i = 0; i < names.Count; i++)
        {
            if (features.ColumnNames[i] != names[i])
            {
                throw new ArgumentException($"Column {i} is '{features.ColumnNames[i]}', expected '{names[i]}'.", nameof(features));
            }
        }
    }

    private static double Logit(double p)
    {
        var q = Math.Clamp(p, 1e-7, 1 - 1e-7);
        return Math.Log(q / (1 - q));
    }

    private static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));
}
