namespace Ranking.Sequential;

/// <summary>Settings of <see cref="OnnxSequentialScorer"/>.</summary>
public sealed record OnnxScorerOptions
{
    /// <summary>Configuration section name.</summary>
    public const string SectionName = "SequentialOnnx";

    /// <summary>Ask for the CUDA execution provider. When it cannot be created (no CUDA build of ONNX Runtime, no
    /// driver or libraries, no device) the scorer logs one line and runs on CPU. Default false.</summary>
    public bool UseCuda { get; init; }

    /// <summary>CUDA device ordinal. Default 0; at least 0.</summary>
    public int DeviceId { get; init; }

    /// <summary>Threads inside one operator; 0 (default) leaves ONNX Runtime's choice (one per physical core).</summary>
    public int IntraOpThreads { get; init; }

    /// <summary>Rows per ONNX Runtime call; longer batches are cut into runs of this many. Default 32; 1 to 4096.</summary>
    public int MaxBatchSize { get; init; } = 32;

    /// <summary>Checks every setting.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A setting is outside its documented range.</exception>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegative(DeviceId);
        ArgumentOutOfRangeException.ThrowIfNegative(IntraOpThreads);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxBatchSize, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(MaxBatchSize, 4096);
    }
}
