using System.Globalization;
using System.Text;

namespace Assistant.Plugins.Grammar;

/// <summary>
/// The rules of one GBNF grammar being written (llama.cpp syntax): unique rule names, one rule a line, <c>root</c>
/// first. Also the text helpers for literals and repetitions, so that every quoting rule lives in one place.
/// </summary>
internal sealed class GbnfRuleSet
{
    public const string RootName = "root";

    private readonly List<(string Name, string Body)> _rules = [];
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private readonly HashSet<string> _reserved;
    private readonly Dictionary<string, string> _byKey = new(StringComparer.Ordinal);

    /// <param name="sharedNames">Fixed names of shared rules, kept out of the names <see cref="Reserve"/> hands out.</param>
    public GbnfRuleSet(IEnumerable<string> sharedNames)
    {
        _reserved = new HashSet<string>(sharedNames, StringComparer.Ordinal);
    }

    /// <summary>Whether a rule of that name is defined.</summary>
    public bool Contains(string name) => _names.Contains(name);

    /// <summary>Reserves a fresh name derived from <paramref name="hint"/>, to be defined later.</summary>
    public string Reserve(string hint)
    {
        var baseName = Sanitize(hint);
        var name = baseName;
        for (var i = 2; _names.Contains(name) || _reserved.Contains(name); i++)
        {
            name = baseName + "-" + i.ToString(CultureInfo.InvariantCulture);
        }

        _reserved.Add(name);
        return name;
    }

    /// <summary>Defines a rule under a name taken from <see cref="Reserve"/> or a shared name.</summary>
    /// <exception cref="InvalidOperationException">The name is defined already.</exception>
    public void Define(string name, string body)
    {
        if (!_names.Add(name))
        {
            throw new InvalidOperationException($"The GBNF rule '{name}' is defined twice.");
        }

        _rules.Add((name, body));
    }

    /// <summary>Adds a rule under a fresh name and returns the name.</summary>
    public string Add(string hint, string body)
    {
        var name = Reserve(hint);
        Define(name, body);
        return name;
    }

    /// <summary>Adds a rule with a fixed shared name once (such as <c>string</c>) and returns the name.</summary>
    public string Shared(string name, Func<string> body)
    {
        if (!_names.Contains(name))
        {
            Define(name, body());
        }

        return name;
    }

    /// <summary>Adds a rule once per <paramref name="key"/> under a fresh name and returns its name.</summary>
    public string SharedByKey(string key, string hint, Func<string> body)
    {
        if (!_byKey.TryGetValue(key, out var name))
        {
            name = Add(hint, body());
            _byKey.Add(key, name);
        }

        return name;
    }

    public string Render()
    {
        var text = new StringBuilder();
        foreach (var (name, body) in _rules.Where(r => r.Name == RootName).Concat(_rules.Where(r => r.Name != RootName)))
        {
            text.Append(name).Append(" ::= ").Append(body).Append('\n');
        }

        return text.ToString();
    }

    /// <summary>A rule name from free text: lower-case letters, digits and single dashes (GBNF allows no more).</summary>
    public static string Sanitize(string hint)
    {
        var name = new StringBuilder();
        var previousWasLower = false;
        foreach (var c in hint)
        {
            if (char.IsAsciiLetterOrDigit(c))
            {
                // camelCase becomes kebab-case, which reads better in grammar dumps.
                if (char.IsAsciiLetterUpper(c) && previousWasLower)
                {
                    name.Append('-');
                }

                name.Append(char.ToLowerInvariant(c));
                previousWasLower = char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c);
            }
            else
            {
                if (name.Length > 0 && name[^1] != '-')
                {
                    name.Append('-');
                }

                previousWasLower = false;
            }
        }

        var result = name.ToString().Trim('-');
        if (result.Length > 48)
        {
            result = result[^48..].Trim('-');
        }

        return result.Length == 0 ? "value" : result;
    }

    /// <summary>A GBNF string literal matching exactly <paramref name="text"/>.</summary>
    public static string Literal(string text)
    {
        var literal = new StringBuilder(text.Length + 2).Append('"');
        foreach (var c in text)
        {
            switch (c)
            {
                case '"': literal.Append("\\\""); break;
                case '\\': literal.Append("\\\\"); break;
                case '\n': literal.Append("\\n"); break;
                case '\r': literal.Append("\\r"); break;
                case '\t': literal.Append("\\t"); break;
                case < ' ' or '\x7F':
                    literal.Append("\\x").Append(((int)c).ToString("X2", CultureInfo.InvariantCulture));
                    break;
                default: literal.Append(c); break;
            }
        }

        return literal.Append('"').ToString();
    }

    /// <summary>
    /// <paramref name="atom"/> repeated between <paramref name="min"/> and <paramref name="max"/> times (null: no upper
    /// bound). The atom must be a rule name, literal, class or parenthesised group. Empty text for exactly zero.
    /// </summary>
    public static string Repeat(string atom, int min, int? max) => (min, max) switch
    {
        (0, 0) => "",
        (1, 1) => atom,
        (0, 1) => atom + "?",
        (0, null) => atom + "*",
        (1, null) => atom + "+",
        (_, null) => atom + "{" + min.ToString(CultureInfo.InvariantCulture) + ",}",
        _ when min == max => atom + "{" + min.ToString(CultureInfo.InvariantCulture) + "}",
        _ => atom + "{" + min.ToString(CultureInfo.InvariantCulture) + "," + max!.Value.ToString(CultureInfo.InvariantCulture) + "}",
    };

    /// <summary>A sequence of parts, skipping empty ones.</summary>
    public static string Sequence(params string[] parts) => string.Join(' ', parts.Where(p => p.Length > 0));

    /// <summary>Alternatives as an atom: a single one as it is, several in a group.</summary>
    public static string Group(IReadOnlyList<string> alternatives) =>
        alternatives.Count == 1 ? Atom(alternatives[0]) : "(" + string.Join(" | ", alternatives) + ")";

    /// <summary>The expression as an atom that a postfix operator can follow.</summary>
    public static string Atom(string expression) => IsAtom(expression) ? expression : "(" + expression + ")";

    private static bool IsAtom(string expression)
    {
        if (expression.Length == 0)
        {
            return false;
        }

        if (expression.All(c => char.IsAsciiLetterOrDigit(c) || c == '-'))
        {
            return true;
        }

        // One literal, class or group spanning the whole text, with no operator after it.
        var close = expression[0] switch
        {
            '"' => '"',
            '[' => ']',
            '(' => ')',
            _ => '\0',
        };
        return close != '\0' && ClosingIndex(expression) == expression.Length - 1;
    }

    private static int ClosingIndex(string expression)
    {
        var depth = 0;
        for (var i = 0; i < expression.Length; i++)
        {
            var c = expression[i];
            if (c == '"' || c == '[')
            {
                var end = c == '"' ? '"' : ']';
                i++;
                while (i < expression.Length && expression[i] != end)
                {
                    i += expression[i] == '\\' ? 2 : 1;
                }

                if (depth == 0)
                {
                    return i;
                }
            }
            else if (c == '(')
            {
                depth++;
            }
            else if (c == ')')
            {
                depth--;
                if (depth == 0)
                {
                    return i;
                }
            }
        }

        return -1;
    }
}
