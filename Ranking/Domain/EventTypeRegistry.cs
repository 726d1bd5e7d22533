using System.Collections.Frozen;

namespace Ranking.Domain;

/// <summary>
/// The open set of event types and the weight of each (how much an event says about interest). Types are
/// lower-case names; each has a small dense code for columnar tables.
/// </summary>
public sealed class EventTypeRegistry
{
    public const string View = "view";
    public const string Cart = "cart";
    public const string Order = "order";
    public const string Share = "share";
    public const string Search = "search";
    public const string Rating = "rating";

    private readonly FrozenDictionary<string, byte> _codes;
    private readonly string[] _names;
    private readonly float[] _weights;

    /// <param name="weights">Type name to weight. Names are matched case-insensitively and stored lower case.</param>
    /// <exception cref="ArgumentException">No types, more than 255 types, an empty name, or a negative or non-finite weight.</exception>
    public EventTypeRegistry(IReadOnlyDictionary<string, double> weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        if (weights.Count is 0 or > 255)
        {
            throw new ArgumentException("Between 1 and 255 event types must be configured.", nameof(weights));
        }

        var names = new List<string>();
        var w = new List<float>();
        foreach (var (name, weight) in weights.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            if (string.IsNullOrWhiteSpace(name))
            {
                throw new ArgumentException("An event type name is empty.", nameof(weights));
            }

            if (!double.IsFinite(weight) || weight < 0)
            {
                throw new ArgumentException($"Event type '{name}' has weight {weight}; weights must be finite and >= 0.", nameof(weights));
            }

            var key = name.Trim().ToLowerInvariant();
            if (names.Contains(key))
            {
                throw new ArgumentException($"Event type '{key}' is configured twice.", nameof(weights));
            }

            names.Add(key);
            w.Add((float)weight);
        }

        _names = [.. names];
        _weights = [.. w];
        _codes = _names.Select((n, i) => (n, i)).ToFrozenDictionary(p => p.n, p => (byte)p.i, StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>view 1, cart 3, order 5, share 4, search 0.5, rating 1.</summary>
    public static EventTypeRegistry Default { get; } = new(DefaultWeights);

    public static IReadOnlyDictionary<string, double> DefaultWeights => new Dictionary<string, double>
    {
        [View] = 1.0,
        [Cart] = 3.0,
        [Order] = 5.0,
        [Share] = 4.0,
        [Search] = 0.5,
        [Rating] = 1.0,
    };

    public IReadOnlyList<string> Names => _names;

    public bool IsKnown(string type) => _codes.ContainsKey(type);

    /// <summary>The dense code of a type; false for an unknown type.</summary>
    public bool TryGetCode(string type, out byte code) => _codes.TryGetValue(type, out code);

    public string NameOf(byte code) => _names[code];

    public float WeightOf(byte code) => _weights[code];

    /// <summary>The weight of a type, or 0 for an unknown type.</summary>
    public float WeightOf(string type) => _codes.TryGetValue(type, out var c) ? _weights[c] : 0f;
}
