using System.Text;

namespace Assistant.Plugins.Tests.Grammar;

/// <summary>
/// Decides whether a whole string is in the language of a parsed GBNF grammar: for each node and start position it
/// computes every end position, memoised per (rule, position), so that ambiguity costs sets, not exponential
/// backtracking. Left recursion (which GBNF for llama.cpp cannot have either) throws.
/// </summary>
internal sealed class GbnfMatcher
{
    private readonly GbnfGrammar _grammar;
    private readonly Dictionary<(string, int), HashSet<int>> _memo = [];
    private readonly HashSet<(string, int)> _inProgress = [];
    private int[] _input = [];

    public GbnfMatcher(GbnfGrammar grammar) => _grammar = grammar;

    public bool Matches(string text, string rule = "root")
    {
        _input = text.EnumerateRunes().Select(r => r.Value).ToArray();
        _memo.Clear();
        _inProgress.Clear();
        return Ends(new GbnfRuleRef(rule), 0).Contains(_input.Length);
    }

    private HashSet<int> Ends(GbnfNode node, int start)
    {
        switch (node)
        {
            case GbnfLiteral literal:
                return literal.CodePoints.Length <= _input.Length - start && literal.CodePoints.AsSpan().SequenceEqual(_input.AsSpan(start, literal.CodePoints.Length))
                    ? [start + literal.CodePoints.Length]
                    : [];
            case GbnfClass characters:
                return start < _input.Length && characters.Matches(_input[start]) ? [start + 1] : [];
            case GbnfAnyChar:
                return start < _input.Length ? [start + 1] : [];
            case GbnfRuleRef reference:
                var key = (reference.Name, start);
                if (_memo.TryGetValue(key, out var known))
                {
                    return known;
                }

                if (!_inProgress.Add(key))
                {
                    throw new InvalidOperationException($"Left recursion through rule '{reference.Name}'.");
                }

                var result = Ends(_grammar.Rules[reference.Name], start);
                _inProgress.Remove(key);
                _memo[key] = result;
                return result;
            case GbnfChoice choice:
                var union = new HashSet<int>();
                foreach (var option in choice.Options)
                {
                    union.UnionWith(Ends(option, start));
                }

                return union;
            case GbnfSequence sequence:
                var positions = new HashSet<int> { start };
                foreach (var item in sequence.Items)
                {
                    positions = Step(item, positions);
                    if (positions.Count == 0)
                    {
                        break;
                    }
                }

                return positions;
            case GbnfRepeat repeat:
                return Repeat(repeat, start);
            default:
                throw new InvalidOperationException(node.GetType().Name);
        }
    }

    private HashSet<int> Repeat(GbnfRepeat repeat, int start)
    {
        var result = repeat.Min == 0 ? new HashSet<int> { start } : [];
        var current = new HashSet<int> { start };
        var seen = new HashSet<int>(result);
        for (var count = 1; repeat.Max is null || count <= repeat.Max; count++)
        {
            current = Step(repeat.Item, current);
            if (count >= repeat.Min)
            {
                if (repeat.Max is null)
                {
                    // Unbounded: once past the minimum, stop when no new end position turns up.
                    current.ExceptWith(seen);
                    seen.UnionWith(current);
                }

                result.UnionWith(current);
            }

            if (current.Count == 0)
            {
                break;
            }
        }

        return result;
    }

    private HashSet<int> Step(GbnfNode node, HashSet<int> starts)
    {
        var next = new HashSet<int>();
        foreach (var position in starts)
        {
            next.UnionWith(Ends(node, position));
        }

        return next;
    }
}

/// <summary>
/// Walks a parsed GBNF grammar at random (seeded) to write strings of its language. Repetitions are short, with the
/// upper bound itself taken now and then; past a depth bound every choice takes the option with the shortest
/// derivation, so recursive rules always end.
/// </summary>
internal sealed class GbnfSampler
{
    private const int MaxDepth = 40;

    // Characters a negated class picks from: ASCII, Latin-1, CJK, an astral emoji (two UTF-16 units, one code point).
    private static readonly int[] Pool =
    [
        .. Enumerable.Range(0x20, 0x5F), 0x7F, 0xE9, 0xDF, 0x20AC, 0x4E2D, 0x1F600, 0x0A, 0x09, 0x00,
    ];

    private readonly GbnfGrammar _grammar;
    private readonly Random _random;
    private readonly Dictionary<string, int> _shortest = [];

    public GbnfSampler(GbnfGrammar grammar, int seed)
    {
        _grammar = grammar;
        _random = new Random(seed);
        ComputeShortest();
    }

    public string Sample(string rule = "root")
    {
        var text = new StringBuilder();
        Walk(new GbnfRuleRef(rule), 0, text);
        return text.ToString();
    }

    private void Walk(GbnfNode node, int depth, StringBuilder text)
    {
        switch (node)
        {
            case GbnfLiteral literal:
                foreach (var codePoint in literal.CodePoints)
                {
                    text.Append(char.ConvertFromUtf32(codePoint));
                }

                break;
            case GbnfClass characters:
                text.Append(char.ConvertFromUtf32(PickFrom(characters)));
                break;
            case GbnfAnyChar:
                text.Append(char.ConvertFromUtf32(Pool[_random.Next(Pool.Length)]));
                break;
            case GbnfRuleRef reference:
                Walk(_grammar.Rules[reference.Name], depth + 1, text);
                break;
            case GbnfSequence sequence:
                foreach (var item in sequence.Items)
                {
                    Walk(item, depth, text);
                }

                break;
            case GbnfChoice choice:
                var finite = choice.Options.Where(o => Shortest(o) < int.MaxValue).ToList();
                var option = depth > MaxDepth
                    ? finite.MinBy(Shortest)!
                    : finite[_random.Next(finite.Count)];
                Walk(option, depth, text);
                break;
            case GbnfRepeat repeat:
                var count = depth > MaxDepth ? repeat.Min : RepeatCount(repeat.Min, repeat.Max);
                for (var i = 0; i < count; i++)
                {
                    Walk(repeat.Item, depth + 1, text);
                }

                break;
        }
    }

    private int RepeatCount(int min, int? max)
    {
        if (max is { } m && m - min <= 64 && _random.NextDouble() < 0.1)
        {
            return m;
        }

        var upper = Math.Min(max ?? int.MaxValue, min + 4);
        return _random.Next(min, upper + 1);
    }

    private int PickFrom(GbnfClass characters)
    {
        if (characters.Negated)
        {
            var allowed = Pool.Where(characters.Matches).ToList();
            return allowed[_random.Next(allowed.Count)];
        }

        var (low, high) = characters.Ranges[_random.Next(characters.Ranges.Count)];
        return _random.Next(low, high + 1);
    }

    private int Shortest(GbnfNode node) => node switch
    {
        GbnfLiteral l => l.CodePoints.Length,
        GbnfClass or GbnfAnyChar => 1,
        GbnfRuleRef r => _shortest.GetValueOrDefault(r.Name, int.MaxValue),
        GbnfChoice c => c.Options.Min(Shortest),
        GbnfSequence s => s.Items.Aggregate(0, (sum, item) => Add(sum, Shortest(item))),
        GbnfRepeat r => r.Min == 0 ? 0 : Multiply(Shortest(r.Item), r.Min),
        _ => int.MaxValue,
    };

    private void ComputeShortest()
    {
        // Fixpoint: a rule's shortest derivation, infinite until one is found.
        bool changed;
        do
        {
            changed = false;
            foreach (var (name, body) in _grammar.Rules)
            {
                var length = Shortest(body);
                if (length < _shortest.GetValueOrDefault(name, int.MaxValue))
                {
                    _shortest[name] = length;
                    changed = true;
                }
            }
        }
        while (changed);
    }

    private static int Add(int a, int b) => a == int.MaxValue || b == int.MaxValue ? int.MaxValue : a + b;

    private static int Multiply(int a, int n) => a == int.MaxValue ? int.MaxValue : a * n;
}
