using Ranking.Candidates;
using Ranking.Data;

namespace Ranking.Evaluation;

/// <summary>
/// The candidate generators by the names the <c>eval</c> verb takes, each trained with its default settings (the
/// settings are printed with the results).
/// </summary>
public static class GeneratorCatalog
{
    private static readonly PopularityOptions AllTime = new() { HalfLifeDays = 0 };
    // Chosen on the leave-one-out validation stage of ML-1M and Amazon Sports (docs/BENCHMARKS.md): lower confidence
    // scaling than the model's default helps on these sparse, one-event-per-pair data sets.
    // The transformer with a fixed epoch count (the catalog trains without a validation split): 34 was the best
    // epoch of early stopping on Amazon Sports (docs/benchmarks/sequential.md).
    private static readonly Sequential.SequentialOptions SequentialSettings = new() { Dropout = 0.5f, Epochs = 34 };

    private static readonly AlsOptions Als = new() { Alpha = 5, Regularization = 10 };
    private static readonly CoOccurrenceOptions AnalogsPmi = new() { Kind = CoOccurrenceKind.Analogs, Measure = CoOccurrenceMeasure.Pmi };
    private static readonly CoOccurrenceOptions AnalogsSwing = new() { Kind = CoOccurrenceKind.Analogs, Measure = CoOccurrenceMeasure.Swing };
    private static readonly CoOccurrenceOptions ComplementsPmi = new() { Kind = CoOccurrenceKind.Complements, Measure = CoOccurrenceMeasure.Pmi };

    /// <summary>Every name, in report order.</summary>
    public static IReadOnlyList<string> Names { get; } =
    [
        "popularity", "popularity-alltime", "itemknn", "ease", "als", "cooc-analogs-pmi", "cooc-analogs-swing", "cooc-complements-pmi", "content", "sequential",
    ];

    /// <summary>Trains the named generator on a log.</summary>
    /// <exception cref="ArgumentException">An unknown name (the message lists the known ones).</exception>
    public static ICandidateGenerator Train(string name, InteractionLog log, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(log);
        return name.ToLowerInvariant() switch
        {
            "popularity" => PopularityModel.Train(log, cancellationToken: cancellationToken),
            "popularity-alltime" => PopularityModel.Train(log, AllTime, cancellationToken),
            "itemknn" => ItemKnnModel.Train(log, cancellationToken: cancellationToken),
            "ease" => EaseModel.Train(log, new EaseOptions(), cancellationToken),
            "als" => AlsModel.Train(log, Als, cancellationToken: cancellationToken),
            "cooc-analogs-pmi" => CoOccurrenceModel.Train(log, AnalogsPmi, cancellationToken),
            "cooc-analogs-swing" => CoOccurrenceModel.Train(log, AnalogsSwing, cancellationToken),
            "cooc-complements-pmi" => CoOccurrenceModel.Train(log, ComplementsPmi, cancellationToken),
            "content" => BuildContent(log, cancellationToken),
            "sequential" => Sequential.SequentialModel.Train(log, SequentialSettings, cancellationToken: cancellationToken),
            _ => throw new ArgumentException($"Unknown model '{name}'. Known: {string.Join(", ", Names)}.", nameof(name)),
        };
    }

    /// <summary>A short description of the settings the catalog trains the named generator with.</summary>
    public static string Settings(string name) => name.ToLowerInvariant() switch
    {
        "popularity" => Describe(new PopularityOptions()),
        "popularity-alltime" => Describe(AllTime),
        "itemknn" => Describe(new ItemKnnOptions()),
        "ease" => Describe(new EaseOptions()),
        "als" => Describe(Als),
        "cooc-analogs-pmi" => Describe(AnalogsPmi),
        "cooc-analogs-swing" => Describe(AnalogsSwing),
        "cooc-complements-pmi" => Describe(ComplementsPmi),
        "sequential" => Describe(SequentialSettings),
        "content" => "MiniLM-L6 sentence encoder over title, category, brand and description; " + Describe(new ContentOptions()),
        _ => "",
    };

    // The encoder is only needed while the catalogue is embedded.
    private static ContentModel BuildContent(InteractionLog log, CancellationToken cancellationToken)
    {
        using var encoder = new MiniLmTextEncoder();
        return ContentModel.Build(log.Items, encoder, new ContentOptions(), cancellationToken);
    }

    private static string Describe(object options)
    {
        var text = options.ToString() ?? "";
        var brace = text.IndexOf('{', StringComparison.Ordinal);
        return brace >= 0 ? text[(brace + 1)..].TrimEnd('}', ' ').Trim() : text;
    }
}
