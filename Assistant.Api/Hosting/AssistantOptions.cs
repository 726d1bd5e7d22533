using System.ComponentModel.DataAnnotations;

namespace Assistant.Api.Hosting;

/// <summary>The "Api" configuration section: limits of the HTTP API.</summary>
public sealed class ApiOptions
{
    public const string SectionName = "Api";

    /// <summary>Largest request body accepted; a larger one gets 413.</summary>
    [Range(1024, 1L << 31)]
    public long MaxRequestBodyBytes { get; set; } = 32L * 1024 * 1024;

    /// <summary>Most records in one POST batch.</summary>
    [Range(1, 1_000_000)]
    public int MaxBatchSize { get; set; } = 50_000;
}

/// <summary>The "Demo" configuration section: the demo marketplace seeded into an empty store.</summary>
public sealed class DemoOptions
{
    public const string SectionName = "Demo";

    /// <summary>Seed the demo marketplace on start when the store has no items and no events.</summary>
    public bool SeedOnStart { get; set; } = true;

    public int Seed { get; set; } = 42;

    /// <summary>Multiplies the default numbers of users and items (and so events).</summary>
    [Range(0.001, 1000)]
    public double Scale { get; set; } = 1.0;
}

/// <summary>The "Events" configuration section: the event types and their weights.</summary>
public sealed class EventTypeOptions
{
    public const string SectionName = "Events";

    /// <summary>Type name to weight. Empty means the defaults (view 1, cart 3, order 5, share 4, search 0.5, rating 1).</summary>
    public Dictionary<string, double> Weights { get; set; } = [];
}

/// <summary>The "Experiments" configuration section.</summary>
public sealed class ExperimentOptions
{
    public const string SectionName = "Experiments";

    /// <summary>Share of all users held out of every experiment (they get the defaults), in [0, 0.5].</summary>
    [Range(0.0, 0.5)]
    public double HoldoutShare { get; set; }

    /// <summary>Changing it changes who is held out.</summary>
    [Required]
    public string HoldoutSalt { get; set; } = "global-holdout";
}

/// <summary>The "Serving" configuration section: model artifacts, training on first start and the ranking defaults.</summary>
public sealed class ServingOptions
{
    public const string SectionName = "Serving";

    /// <summary>Folder of the versioned model artifacts; default: <c>models</c> under Storage:DataDirectory.</summary>
    public string? ModelsDirectory { get; set; }

    /// <summary>Train (with the quick configuration) at start when no valid model version exists and the store has events.</summary>
    public bool TrainOnStart { get; set; } = true;

    /// <summary>Build text embeddings (MiniLM) for content similarity and vector search; costs tens of seconds on the demo.</summary>
    public bool Content { get; set; }

    /// <summary>Train the transformer as a candidate source (minutes on the demo at 2 cores), with action types, time gaps,
    /// surfaces, search-query tokens and scenario context (MiniLM encodes the queries); analogs, complements and search
    /// then ask it with their anchor or query as the context.</summary>
    public bool Transformer { get; set; }

    /// <summary>Compute the transformer's user states with ONNX Runtime (the exported graph; 3–4× faster than the C# pass
    /// on 2 cores); false, or a session that cannot be opened, uses the C# forward pass.</summary>
    public bool TransformerOnnx { get; set; } = true;

    /// <summary>Ask ONNX Runtime for the CUDA provider (a build with <c>-p:OnnxRuntimeGpu=true</c> and a GPU); without
    /// them the session runs on CPU and one line is logged.</summary>
    public bool TransformerCuda { get; set; }

    /// <summary>Epochs of the transformer when it is trained.</summary>
    [Range(1, 500)]
    public int TransformerEpochs { get; set; } = 20;

    /// <summary>The fusion model learns from the orders of the last this-many days.</summary>
    [Range(1, 365)]
    public int FusionSliceDays { get; set; } = 28;

    /// <summary>Versions kept when a new one is written.</summary>
    [Range(1, 100)]
    public int KeepVersions { get; set; } = 5;

    /// <summary>Default blend of value: (1 - w) price + w margin.</summary>
    [Range(0.0, 1.0)]
    public double MarginWeight { get; set; } = 0.3;

    /// <summary>Default share of home slots for discovery.</summary>
    [Range(0.0, 0.5)]
    public double DiscoveryShare { get; set; } = 0.2;

    /// <summary>Exponent of value in the objective P(order) · value^γ (0: relevance only).</summary>
    [Range(0.0, 2.0)]
    public double ValueExponent { get; set; } = 1.0;

    /// <summary>Most events of a user read for a request (the newest).</summary>
    [Range(1, 100_000)]
    public int HistoryEvents { get; set; } = 500;
}
