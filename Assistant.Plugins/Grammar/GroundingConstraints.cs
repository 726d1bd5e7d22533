namespace Assistant.Plugins.Grammar;

/// <summary>
/// The allowed-values constraints of one grammar, by instance path (<see cref="JsonGrammarOptions.AllowedValues"/>)
/// and by schema pointer (<see cref="JsonSchemaGrammar.WithAllowedValues"/>), with a record of which were applied so
/// that a misspelt path fails loudly instead of silently leaving the property free.
/// </summary>
internal sealed class GroundingConstraints
{
    private readonly Dictionary<string, IReadOnlyCollection<string>> _byPath;
    private readonly Dictionary<string, IReadOnlyCollection<string>> _byPointer;
    private readonly HashSet<string> _usedPaths = new(StringComparer.Ordinal);
    private readonly HashSet<string> _usedPointers = new(StringComparer.Ordinal);

    public GroundingConstraints(
        IReadOnlyDictionary<string, IReadOnlyCollection<string>>? byPath,
        IReadOnlyDictionary<string, IReadOnlyCollection<string>>? byPointer = null)
    {
        _byPath = Copy(byPath, static k => k);
        _byPointer = Copy(byPointer, NormalizePointer);
    }

    /// <summary>Whether any constraint depends on where a subschema is used, not only on where it is written.</summary>
    public bool HasPathConstraints => _byPath.Count > 0;

    public bool TryGet(string pointer, string path, out IReadOnlyCollection<string> allowed)
    {
        if (_byPath.TryGetValue(path, out var byPath))
        {
            _usedPaths.Add(path);
            allowed = byPath;
            return true;
        }

        if (_byPointer.TryGetValue(pointer, out var byPointer))
        {
            _usedPointers.Add(pointer);
            allowed = byPointer;
            return true;
        }

        allowed = [];
        return false;
    }

    /// <exception cref="ArgumentException">A constraint matched no property of the schema.</exception>
    public void EnsureAllApplied()
    {
        var unused = _byPath.Keys.Where(k => !_usedPaths.Contains(k)).Select(k => $"path '{k}'")
            .Concat(_byPointer.Keys.Where(k => !_usedPointers.Contains(k)).Select(k => $"schema pointer '{k}'"))
            .ToList();
        if (unused.Count > 0)
        {
            throw new ArgumentException(
                $"Allowed values were given for {string.Join(", ", unused)}, which the schema does not have.");
        }
    }

    /// <summary>A schema pointer in the converter's form: <c>#</c> then the JSON Pointer.</summary>
    public static string NormalizePointer(string pointer) => pointer.StartsWith('#') ? pointer : "#" + pointer;

    private static Dictionary<string, IReadOnlyCollection<string>> Copy(
        IReadOnlyDictionary<string, IReadOnlyCollection<string>>? source, Func<string, string> key)
    {
        var copy = new Dictionary<string, IReadOnlyCollection<string>>(StringComparer.Ordinal);
        foreach (var (k, values) in source ?? new Dictionary<string, IReadOnlyCollection<string>>())
        {
            ArgumentNullException.ThrowIfNull(values);
            if (values.Count == 0)
            {
                throw new ArgumentException($"The allowed values for '{k}' are empty: the property could never be written.");
            }

            copy[key(k)] = values;
        }

        return copy;
    }
}
