using Microsoft.ML;
using Microsoft.ML.Calibrators;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers.LightGbm;
using Ranking.Candidates;
using Ranking.Crm;

namespace Ranking.Fusion;

/// <summary>
/// The fusion ranker: P(order | user, candidate) from the candidate features, a LightGBM binary model trained through
/// ML.NET on a time slice later than the generators' data. At serving time the trees are walked from flat arrays copied
/// out of the ML.NET model (thread-safe, no allocation, about a microsecond a candidate), with ML.NET's Platt
/// calibration on top; a test checks the copy against ML.NET's own predictions.
/// </summary>
public sealed class FusionModel
{
    private const string Kind = "fusion-forest";
    private const int Version = 1;

    // One entry per node of every tree; children < 0 are leaves (~child is the leaf's index in the tree's leaves).
    private readonly int[] _treeNodeStart;
    private readonly int[] _treeLeafStart;
    private readonly int[] _feature;
    private readonly float[] _threshold;
    private readonly int[] _left;
    private readonly int[] _right;
    private readonly float[] _leafValue;
    private readonly double[] _treeWeight;
    private readonly double _bias;

    private FusionModel(
        IReadOnlyList<string> featureNames, int[] treeNodeStart, int[] treeLeafStart, int[] feature, float[] threshold, int[] left, int[] right,
        float[] leafValue, double[] treeWeight, double bias, double slope, double offset, double constant)
    {
        FeatureNames = featureNames;
        _treeNodeStart = treeNodeStart;
        _treeLeafStart = treeLeafStart;
        _feature = feature;
        _threshold = threshold;
        _left = left;
        _right = right;
        _leafValue = leafValue;
        _treeWeight = treeWeight;
        _bias = bias;
        Slope = slope;
        Offset = offset;
        Constant = constant;
    }

    /// <summary>The feature columns, in the order <see cref="Probability"/> expects.</summary>
    public IReadOnlyList<string> FeatureNames { get; }

    /// <summary>Number of trees.</summary>
    public int TreeCount => _treeWeight.Length;

    /// <summary>Platt calibration: P = 1 / (1 + exp(Slope · raw + Offset)).</summary>
    public double Slope { get; }

    /// <summary>See <see cref="Slope"/>.</summary>
    public double Offset { get; }

    /// <summary>The probability of a model fitted on one class only (no trees); NaN when there are trees.</summary>
    public double Constant { get; }

    /// <summary>
    /// Fits the model on a feature matrix with 0/1 labels. With one class only (or no rows) the model is the constant
    /// base rate.
    /// </summary>
    public static FusionModel Train(FeatureMatrix features, float[] labels, BoostedTreeOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(labels);
        options ??= BoostedTreeOptions.Default;
        if (labels.Length != features.RowCount)
        {
            throw new ArgumentException($"{labels.Length} labels for {features.RowCount} rows.", nameof(labels));
        }

        var positives = labels.Count(l => l > 0.5f);
        if (positives == 0 || positives == labels.Length)
        {
            return new FusionModel(
                [.. features.ColumnNames], [0], [0], [], [], [], [], [], [], 0, 0, 0, labels.Length == 0 ? 0 : positives / (double)labels.Length);
        }

        var ml = new MLContext(options.Seed);
        var data = new FeatureMatrixDataView(features, labels, booleanLabel: true);
        var fitted = ml.BinaryClassification.Trainers.LightGbm(BoostedTrees.BinaryTrainerOptions(options)).Fit(data);
        return FromMlNet(fitted.Model, features.ColumnNames);
    }

    /// <summary>Copies the trees and calibrator out of a fitted ML.NET LightGBM binary model.</summary>
    internal static FusionModel FromMlNet(CalibratedModelParametersBase<LightGbmBinaryModelParameters, PlattCalibrator> model, IReadOnlyList<string> names)
    {
        var ensemble = model.SubModel.TrainedTreeEnsemble;
        var trees = ensemble.Trees;
        var nodeStart = new int[trees.Count + 1];
        var leafStart = new int[trees.Count + 1];
        for (var t = 0; t < trees.Count; t++)
        {
            if (trees[t].CategoricalSplitFlags.Any(f => f))
            {
                throw new NotSupportedException("Categorical splits are not used by the fusion features.");
            }

            nodeStart[t + 1] = nodeStart[t] + trees[t].NumberOfNodes;
            leafStart[t + 1] = leafStart[t] + trees[t].NumberOfLeaves;
        }

        var feature = new int[nodeStart[^1]];
        var threshold = new float[feature.Length];
        var left = new int[feature.Length];
        var right = new int[feature.Length];
        var leaf = new float[leafStart[^1]];
        for (var t = 0; t < trees.Count; t++)
        {
            var tree = trees[t];
            for (var n = 0; n < tree.NumberOfNodes; n++)
            {
                feature[nodeStart[t] + n] = tree.NumericalSplitFeatureIndexes[n];
                threshold[nodeStart[t] + n] = tree.NumericalSplitThresholds[n];
                left[nodeStart[t] + n] = tree.LeftChild[n];
                right[nodeStart[t] + n] = tree.RightChild[n];
            }

            for (var l = 0; l < tree.NumberOfLeaves; l++)
            {
                leaf[leafStart[t] + l] = (float)tree.LeafValues[l];
            }
        }

        return new FusionModel(
            [.. names], nodeStart, leafStart, feature, threshold, left, right, leaf, [.. ensemble.TreeWeights], ensemble.Bias,
            model.Calibrator.Slope, model.Calibrator.Offset, double.NaN);
    }

    /// <summary>The raw (uncalibrated) ensemble output for one feature row.</summary>
    public double Raw(ReadOnlySpan<float> features)
    {
        if (features.Length != FeatureNames.Count)
        {
            throw new ArgumentException($"The model takes {FeatureNames.Count} features; got {features.Length}.", nameof(features));
        }

        var sum = _bias;
        for (var t = 0; t < _treeWeight.Length; t++)
        {
            var baseNode = _treeNodeStart[t];
            var nodes = _treeNodeStart[t + 1] - baseNode;
            if (nodes == 0)
            {
                // A single-leaf tree: LightGBM emits it when no split gains.
                sum += _treeWeight[t] * (_treeLeafStart[t + 1] > _treeLeafStart[t] ? _leafValue[_treeLeafStart[t]] : 0);
                continue;
            }

            var node = 0;
            while (node >= 0)
            {
                var at = baseNode + node;
                node = features[_feature[at]] <= _threshold[at] ? _left[at] : _right[at];
            }

            sum += _treeWeight[t] * _leafValue[_treeLeafStart[t] + ~node];
        }

        return sum;
    }

    /// <summary>P(order) for one feature row.</summary>
    public double Probability(ReadOnlySpan<float> features)
    {
        if (!double.IsNaN(Constant))
        {
            return Constant;
        }

        return 1.0 / (1.0 + Math.Exp((Slope * Raw(features)) + Offset));
    }

    /// <summary>Writes the model as an artifact.</summary>
    public void Save(Stream stream)
    {
        using var writer = new ArtifactWriter(stream, Kind, Version, 0);
        writer.WriteStrings(FeatureNames);
        writer.WriteArray<int>(_treeNodeStart);
        writer.WriteArray<int>(_treeLeafStart);
        writer.WriteArray<int>(_feature);
        writer.WriteArray<float>(_threshold);
        writer.WriteArray<int>(_left);
        writer.WriteArray<int>(_right);
        writer.WriteArray<float>(_leafValue);
        writer.WriteArray<double>(_treeWeight);
        writer.Write(_bias);
        writer.Write(Slope);
        writer.Write(Offset);
        writer.Write(Constant);
    }

    /// <summary>Reads a model written by <see cref="Save"/>.</summary>
    /// <exception cref="InvalidDataException">Truncated, foreign, or a tree that points outside its arrays.</exception>
    public static FusionModel Load(Stream stream)
    {
        using var reader = new ArtifactReader(stream, Kind, Version);
        var names = reader.ReadStrings();
        var nodeStart = reader.ReadArray<int>();
        var leafStart = reader.ReadArray<int>();
        var feature = reader.ReadArray<int>();
        var threshold = reader.ReadArray<float>();
        var left = reader.ReadArray<int>();
        var right = reader.ReadArray<int>();
        var leaf = reader.ReadArray<float>();
        var weights = reader.ReadArray<double>();
        var model = new FusionModel(
            names, nodeStart, leafStart, feature, threshold, left, right, leaf, weights, reader.ReadDouble(), reader.ReadDouble(),
            reader.ReadDouble(), reader.ReadDouble());
        model.Check();
        return model;
    }

    private void Check()
    {
        var trees = _treeWeight.Length;
        var ok = _treeNodeStart.Length == trees + 1 && _treeLeafStart.Length == trees + 1
            && _threshold.Length == _feature.Length && _left.Length == _feature.Length && _right.Length == _feature.Length
            && (trees == 0 || (_treeNodeStart[^1] == _feature.Length && _treeLeafStart[^1] == _leafValue.Length));
        for (var t = 0; ok && t < trees; t++)
        {
            var nodes = _treeNodeStart[t + 1] - _treeNodeStart[t];
            var leaves = _treeLeafStart[t + 1] - _treeLeafStart[t];
            for (var n = _treeNodeStart[t]; ok && n < _treeNodeStart[t + 1]; n++)
            {
                ok = (uint)_feature[n] < (uint)FeatureNames.Count
                    && (_left[n] >= 0 ? _left[n] < nodes : ~_left[n] < leaves)
                    && (_right[n] >= 0 ? _right[n] < nodes : ~_right[n] < leaves);
            }
        }

        if (!ok)
        {
            throw new InvalidDataException("The fusion model's trees point outside their arrays.");
        }
    }
}
