using System.Globalization;
using System.Text;

namespace Assistant.Plugins.Tests.Grammar;

/// <summary>A node of a parsed GBNF expression.</summary>
internal abstract record GbnfNode;

internal sealed record GbnfChoice(IReadOnlyList<GbnfNode> Options) : GbnfNode;

internal sealed record GbnfSequence(IReadOnlyList<GbnfNode> Items) : GbnfNode;

internal sealed record GbnfLiteral(int[] CodePoints) : GbnfNode;

internal sealed record GbnfClass(bool Negated, IReadOnlyList<(int Low, int High)> Ranges) : GbnfNode
{
    public bool Matches(int codePoint) => Ranges.Any(r => codePoint >= r.Low && codePoint <= r.High) != Negated;
}

internal sealed record GbnfAnyChar : GbnfNode;

internal sealed record GbnfRuleRef(string Name) : GbnfNode;

internal sealed record GbnfRepeat(GbnfNode Item, int Min, int? Max) : GbnfNode;

/// <summary>
/// An independent reader of GBNF text in the llama.cpp syntax: rules <c>name ::= ...</c>, alternation, sequences,
/// groups, <c>* + ?</c>, <c>{m}</c>, <c>{m,}</c>, <c>{m,n}</c>, string literals and character classes with escapes,
/// negation and ranges, <c>.</c> and <c># comments</c>. Newlines end a rule except after <c>|</c> or inside a group.
/// </summary>
internal sealed class GbnfGrammar
{
    private GbnfGrammar(IReadOnlyDictionary<string, GbnfNode> rules) => Rules = rules;

    public IReadOnlyDictionary<string, GbnfNode> Rules { get; }

    /// <exception cref="FormatException">The text is not valid GBNF, a rule is defined twice or referenced but undefined, or there is no <c>root</c>.</exception>
    public static GbnfGrammar Parse(string text)
    {
        var reader = new Reader(text);
        var rules = new Dictionary<string, GbnfNode>(StringComparer.Ordinal);
        reader.SkipSpace(newlines: true);
        while (!reader.AtEnd)
        {
            var name = reader.Name();
            reader.SkipSpace(newlines: false);
            reader.Expect("::=");
            reader.SkipSpace(newlines: true);
            var body = reader.Alternatives(nested: false);
            if (!rules.TryAdd(name, body))
            {
                throw new FormatException($"Rule '{name}' is defined twice.");
            }

            if (!reader.AtEnd && reader.Peek != '\n' && reader.Peek != '\r')
            {
                throw reader.Error("expected the end of the rule");
            }

            reader.SkipSpace(newlines: true);
        }

        if (!rules.ContainsKey("root"))
        {
            throw new FormatException("The grammar has no 'root' rule.");
        }

        foreach (var (name, body) in rules)
        {
            foreach (var reference in References(body))
            {
                if (!rules.ContainsKey(reference))
                {
                    throw new FormatException($"Rule '{name}' refers to the undefined rule '{reference}'.");
                }
            }
        }

        return new GbnfGrammar(rules);
    }

    private static IEnumerable<string> References(GbnfNode node) => node switch
    {
        GbnfRuleRef r => [r.Name],
        GbnfChoice c => c.Options.SelectMany(References),
        GbnfSequence s => s.Items.SelectMany(References),
        GbnfRepeat r => References(r.Item),
        _ => [],
    };

    private sealed class Reader(string text)
    {
        private int _pos;

        public bool AtEnd => _pos >= text.Length;

        public char Peek => text[_pos];

        public FormatException Error(string what) =>
            new($"GBNF error at offset {_pos} ({what}): '{text[_pos..Math.Min(text.Length, _pos + 30)]}'");

        public void SkipSpace(bool newlines)
        {
            while (!AtEnd)
            {
                var c = Peek;
                if (c == '#')
                {
                    while (!AtEnd && Peek != '\n')
                    {
                        _pos++;
                    }
                }
                else if (c is ' ' or '\t' || (newlines && c is '\n' or '\r'))
                {
                    _pos++;
                }
                else
                {
                    return;
                }
            }
        }

        public void Expect(string token)
        {
            if (string.CompareOrdinal(text, _pos, token, 0, token.Length) != 0)
            {
                throw Error($"expected '{token}'");
            }

            _pos += token.Length;
        }

        public string Name()
        {
            var start = _pos;
            while (!AtEnd && (char.IsAsciiLetterOrDigit(Peek) || Peek == '-'))
            {
                _pos++;
            }

            return _pos > start ? text[start.._pos] : throw Error("expected a rule name");
        }

        public GbnfNode Alternatives(bool nested)
        {
            var options = new List<GbnfNode> { Sequence(nested) };
            while (!AtEnd && Peek == '|')
            {
                _pos++;
                SkipSpace(newlines: true);
                options.Add(Sequence(nested));
            }

            return options.Count == 1 ? options[0] : new GbnfChoice(options);
        }

        private GbnfNode Sequence(bool nested)
        {
            var items = new List<GbnfNode>();
            while (!AtEnd)
            {
                GbnfNode item;
                var c = Peek;
                if (c == '"')
                {
                    _pos++;
                    var codePoints = new List<int>();
                    while (Peek != '"')
                    {
                        codePoints.Add(Char());
                    }

                    _pos++;
                    item = new GbnfLiteral([.. codePoints]);
                }
                else if (c == '[')
                {
                    _pos++;
                    var negated = Peek == '^';
                    if (negated)
                    {
                        _pos++;
                    }

                    var ranges = new List<(int, int)>();
                    while (Peek != ']')
                    {
                        var low = Char();
                        var high = low;
                        if (Peek == '-' && text[_pos + 1] != ']')
                        {
                            _pos++;
                            high = Char();
                        }

                        ranges.Add((low, high));
                    }

                    _pos++;
                    item = new GbnfClass(negated, ranges);
                }
                else if (c == '(')
                {
                    _pos++;
                    SkipSpace(newlines: true);
                    item = Alternatives(nested: true);
                    if (AtEnd || Peek != ')')
                    {
                        throw Error("expected ')'");
                    }

                    _pos++;
                }
                else if (c == '.')
                {
                    _pos++;
                    item = new GbnfAnyChar();
                }
                else if (char.IsAsciiLetterOrDigit(c) || c == '-')
                {
                    item = new GbnfRuleRef(Name());
                }
                else
                {
                    break;
                }

                item = Postfix(item);
                items.Add(item);
                SkipSpace(newlines: nested);
            }

            return items.Count == 1 ? items[0] : new GbnfSequence(items);
        }

        private GbnfNode Postfix(GbnfNode item)
        {
            while (!AtEnd)
            {
                switch (Peek)
                {
                    case '*': _pos++; item = new GbnfRepeat(item, 0, null); break;
                    case '+': _pos++; item = new GbnfRepeat(item, 1, null); break;
                    case '?': _pos++; item = new GbnfRepeat(item, 0, 1); break;
                    case '{':
                        _pos++;
                        var min = Number();
                        int? max = min;
                        if (Peek == ',')
                        {
                            _pos++;
                            max = char.IsAsciiDigit(Peek) ? Number() : null;
                        }

                        Expect("}");
                        if (max < min)
                        {
                            throw Error("repetition with max < min");
                        }

                        item = new GbnfRepeat(item, min, max);
                        break;
                    default:
                        return item;
                }
            }

            return item;
        }

        private int Number()
        {
            var start = _pos;
            while (!AtEnd && char.IsAsciiDigit(Peek))
            {
                _pos++;
            }

            return _pos > start ? int.Parse(text[start.._pos], CultureInfo.InvariantCulture) : throw Error("expected a number");
        }

        /// <summary>One character of a literal or class, escapes decoded, as a code point.</summary>
        private int Char()
        {
            if (AtEnd)
            {
                throw Error("unterminated literal or class");
            }

            var c = Peek;
            if (c is '\n' or '\r')
            {
                throw Error("newline inside a literal or class");
            }

            if (c != '\\')
            {
                var rune = Rune.GetRuneAt(text, _pos);
                _pos += rune.Utf16SequenceLength;
                return rune.Value;
            }

            var e = text[_pos + 1];
            _pos += 2;
            return e switch
            {
                'n' => '\n',
                'r' => '\r',
                't' => '\t',
                '\\' or '"' or '[' or ']' => e,
                'x' => Hex(2),
                'u' => Hex(4),
                'U' => Hex(8),
                _ => throw Error($"unknown escape '\\{e}'"),
            };
        }

        private int Hex(int digits)
        {
            var value = int.Parse(text.AsSpan(_pos, digits), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
            _pos += digits;
            return value;
        }
    }
}
