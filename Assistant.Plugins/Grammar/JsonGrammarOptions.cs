namespace Assistant.Plugins.Grammar;

/// <summary>
/// Bounds and constraints for the GBNF grammars written by <see cref="JsonSchemaGrammar"/>. Every bound makes the
/// grammar stricter than the schema, never looser: whatever the grammar admits still validates against the schema.
/// </summary>
public sealed class JsonGrammarOptions
{
    /// <summary>The options used when none are passed.</summary>
    public static JsonGrammarOptions Default { get; } = new();

    /// <summary>
    /// The most characters (code points, a JSON escape counting as one) any string may have, applied on top of the
    /// schema's <c>maxLength</c>; null for no cap. A schema whose <c>minLength</c> exceeds it is not supported.
    /// Default 256: a small model otherwise can fill its whole token budget with one string.
    /// </summary>
    public int? MaxStringLength { get; init; } = 256;

    /// <summary>
    /// The most items any array (and members any free-form object or map) may have, applied on top of the schema's
    /// <c>maxItems</c>; null for no cap. A schema whose <c>minItems</c> exceeds it is not supported. Default 64.
    /// </summary>
    public int? MaxArrayItems { get; init; } = 64;

    /// <summary>
    /// The most whitespace characters (space or newline) allowed between two JSON tokens; 0 for compact JSON only.
    /// Bounded so that a model cannot loop on whitespace. Default 1; at most 16.
    /// </summary>
    public int MaxWhitespace { get; init; } = 1;

    /// <summary>
    /// The most digits of an integer (and of the integer part of a number). Default 9, so that every admitted integer
    /// fits an <see cref="int"/>; at most 15, so that it stays exact in a <see cref="double"/>.
    /// </summary>
    public int MaxIntegerDigits { get; init; } = 9;

    /// <summary>
    /// Grounding: string properties that may only take one of the given values ("what is not in the catalog cannot be
    /// said"), keyed by instance path: property names joined with <c>.</c>, <c>[]</c> for the items of an array,
    /// <c>.*</c> for the values of a map, e.g. <c>items[].itemId</c> or <c>itemId</c> for a top-level property. The
    /// values are kept only where the schema admits them (enum, length); a property that is also nullable keeps
    /// <c>null</c>. A path that names no string property of the schema, or whose values all fall outside it, throws
    /// <see cref="ArgumentException"/>. In a tool-call grammar the paths apply inside each tool's arguments and inside
    /// the final answer.
    /// </summary>
    public IReadOnlyDictionary<string, IReadOnlyCollection<string>>? AllowedValues { get; init; }

    internal void Validate()
    {
        if (MaxStringLength is < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxStringLength), MaxStringLength, "MaxStringLength must not be negative.");
        }

        if (MaxArrayItems is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxArrayItems), MaxArrayItems, "MaxArrayItems must be at least 1.");
        }

        if (MaxWhitespace is < 0 or > 16)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxWhitespace), MaxWhitespace, "MaxWhitespace must be between 0 and 16.");
        }

        if (MaxIntegerDigits is < 1 or > 15)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxIntegerDigits), MaxIntegerDigits, "MaxIntegerDigits must be between 1 and 15.");
        }
    }
}
