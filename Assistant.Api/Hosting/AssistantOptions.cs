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
