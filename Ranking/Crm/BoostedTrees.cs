using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers.LightGbm;

namespace Ranking.Crm;

/// <summary>
/// The gradient-boosted trees behind every uplift learner (LightGBM through ML.NET).
/// </summary>
/// <remarks>
/// <para><b>Determinism.</b> With <see cref="NumberOfThreads"/> = 1 (the default) and a fixed <see cref="Seed"/>, a fit
/// on the same rows in the same order gives the same model bit for bit; LightGBM's <c>deterministic</c> flag is also
/// set, which keeps results stable when more threads are used, at some cost in speed.</para>
/// <para>No bagging or feature sub-sampling is configured, so the seed matters only for LightGBM's internal tie
/// breaks.</para>
/// </remarks>
public sealed record BoostedTreeOptions
{
    /// <summary>Boosting rounds (trees); at least 1.</summary>
    public int NumberOfIterations { get; init; } = 100;

    /// <summary>The most leaves in one tree; at least 2. With <see cref="MaximumTreeDepth"/> = d, more than 2^d is moot.</summary>
    public int NumberOfLeaves { get; init; } = 31;

    /// <summary>The deepest a tree may grow; 0 for no limit (LightGBM grows leaf-wise, so leaves are the usual limit).</summary>
    public int MaximumTreeDepth { get; init; }

    /// <summary>Shrinkage per tree, in (0, 1].</summary>
    public double LearningRate { get; init; } = 0.1;

    /// <summary>The fewest training rows in a leaf; at least 1.</summary>
    public int MinimumExampleCountPerLeaf { get; init; } = 20;

    public int Seed { get; init; } = 42;

    /// <summary>LightGBM threads; 1 keeps a fit reproducible and leaves the other cores alone.</summary>
    public int NumberOfThreads { get; init; } = 1;

    /// <summary>Depth-2 trees (at most 4 leaves), 100 rounds, learning rate 0.1: the shallow set-up of scikit-uplift's Hillstrom tutorial.</summary>
    public static BoostedTreeOptions Shallow { get; } = new() { MaximumTreeDepth = 2, NumberOfLeaves = 4 };

    /// <summary>LightGBM's usual defaults: 31 leaves, no depth limit, 100 rounds, learning rate 0.1.</summary>
    public static BoostedTreeOptions Default { get; } = new();

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(NumberOfIterations, 1, nameof(NumberOfIterations));
        ArgumentOutOfRangeException.ThrowIfLessThan(NumberOfLeaves, 2, nameof(NumberOfLeaves));
        ArgumentOutOfRangeException.ThrowIfNegative(MaximumTreeDepth, nameof(MaximumTreeDepth));
        ArgumentOutOfRangeException.ThrowIfLessThan(MinimumExampleCountPerLeaf, 1, nameof(MinimumExampleCountPerLeaf));
        ArgumentOutOfRangeException.ThrowIfLessThan(NumberOfThreads, 1, nameof(NumberOfThreads));
        if (!(LearningRate > 0 && LearningRate <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(LearningRate), LearningRate, "The learning rate must be in (0, 1].");
        }
    }

    public override string ToString() =>
        $"{NumberOfIterations} rounds, {NumberOfLeaves} leaves, depth {(MaximumTreeDepth == 0 ? "unlimited" : MaximumTreeDepth)}, " +
        $"learning rate {LearningRate}, min {MinimumExampleCountPerLeaf} rows per leaf, seed {Seed}, {NumberOfThreads} thread(s)";
}

/// <summary>One fitted tree ensemble: a probability (binary) or a value (regression) per row.</summary>
internal sealed class BoostedTrees
{
    private readonly ITransformer? _model;
    private readonly double _constant;
    private readonly bool _binary;
    private readonly int _columns;

    private BoostedTrees(ITransformer? model, double constant, bool binary, int columns)
    {
        _model = model;
        _constant = constant;
        _binary = binary;
        _columns = columns;
    }

    /// <summary>
    /// Fits a binary classifier (labels 0/1, output P(label = 1)) or a regressor. A label that is the same on every row
    /// (or no rows at all) gives a constant model, since LightGBM cannot fit one class; with no rows the constant is 0.
    /// </summary>
    public static BoostedTrees Fit(FeatureMatrix features, float[] labels, bool binary, BoostedTreeOptions options)
    {
        options.Validate();
        if (labels.Length != features.RowCount)
        {
            throw new ArgumentException($"{labels.Length} labels for {features.RowCount} rows.", nameof(labels));
        }

        if (IsConstant(labels))
        {
            return new BoostedTrees(null, labels.Length == 0 ? 0 : labels[0], binary, features.ColumnCount);
        }

        var ml = new MLContext(options.Seed);
        var data = new FeatureMatrixDataView(features, labels, booleanLabel: binary);
        ITransformer model = binary
            ? ml.BinaryClassification.Trainers.LightGbm(BinaryTrainerOptions(options)).Fit(data)
            : ml.Regression.Trainers.LightGbm(RegressionTrainerOptions(options)).Fit(data);
        return new BoostedTrees(model, 0, binary, features.ColumnCount);
    }

    /// <summary>P(label = 1) for a classifier, the predicted value for a regressor; one per row.</summary>
    public double[] Predict(FeatureMatrix features)
    {
        if (features.ColumnCount != _columns)
        {
            throw new ArgumentException($"The model was fitted on {_columns} columns; got {features.ColumnCount}.", nameof(features));
        }

        var result = new double[features.RowCount];
        if (_model is null)
        {
            result.AsSpan().Fill(_constant);
            return result;
        }

        ReadColumn(_model.Transform(new FeatureMatrixDataView(features)), _binary ? "Probability" : "Score", result);
        return result;
    }

    /// <summary>LightGBM's binary trainer settings for these options (deterministic, silent).</summary>
    internal static LightGbmBinaryTrainer.Options BinaryTrainerOptions(BoostedTreeOptions options) => new()
    {
        NumberOfIterations = options.NumberOfIterations,
        NumberOfLeaves = options.NumberOfLeaves,
        LearningRate = options.LearningRate,
        MinimumExampleCountPerLeaf = options.MinimumExampleCountPerLeaf,
        Seed = options.Seed,
        NumberOfThreads = options.NumberOfThreads,
        Deterministic = true,
        Booster = new GradientBooster.Options { MaximumTreeDepth = options.MaximumTreeDepth },
        Silent = true,
        Verbose = false,
    };

    /// <summary>LightGBM's regression trainer settings for these options (deterministic, silent).</summary>
    internal static LightGbmRegressionTrainer.Options RegressionTrainerOptions(BoostedTreeOptions options) => new()
    {
        NumberOfIterations = options.NumberOfIterations,
        NumberOfLeaves = options.NumberOfLeaves,
        LearningRate = options.LearningRate,
        MinimumExampleCountPerLeaf = options.MinimumExampleCountPerLeaf,
        Seed = options.Seed,
        NumberOfThreads = options.NumberOfThreads,
        Deterministic = true,
        Booster = new GradientBooster.Options { MaximumTreeDepth = options.MaximumTreeDepth },
        Silent = true,
        Verbose = false,
    };

    /// <summary>Copies a float column of a scored view into <paramref name="result"/>, one value per row in order.</summary>
    internal static void ReadColumn(IDataView scored, string name, Span<double> result)
    {
        var column = scored.Schema[name];
        using var cursor = scored.GetRowCursor([column]);
        var getter = cursor.GetGetter<float>(column);
        float value = 0;
        for (var i = 0; cursor.MoveNext(); i++)
        {
            getter(ref value);
            result[i] = value;
        }
    }

    private static bool IsConstant(ReadOnlySpan<float> labels)
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
}
