using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Assistant.Plugins.Grammar;

/// <summary>
/// Writes the GBNF rules for one JSON Schema document into a shared <see cref="GbnfRuleSet"/>. Several converters may
/// share one rule set (a tool-call grammar holds one schema per tool); the primitive rules are then written once.
/// </summary>
/// <remarks>
/// Token layout: a value rule never carries whitespace; containers put the bounded <c>ws</c> rule after every opening
/// bracket, colon, comma and member value, so at most one run of whitespace separates two tokens.
/// </remarks>
internal sealed class SchemaGbnfConverter
{
    private static readonly HashSet<string> Annotations = new(StringComparer.Ordinal)
    {
        "$schema", "$comment", "title", "description", "examples", "default", "deprecated", "readOnly", "writeOnly",
        "$defs", "definitions",
    };

    private static readonly HashSet<string> Keywords = new(StringComparer.Ordinal)
    {
        "$ref", "type", "enum", "const", "anyOf", "oneOf", "allOf", "properties", "required", "additionalProperties",
        "items", "minItems", "maxItems", "minLength", "maxLength",
    };

    private static readonly string[] ObjectKeywords = ["properties", "required", "additionalProperties"];
    private static readonly string[] ArrayKeywords = ["items", "minItems", "maxItems"];
    private static readonly string[] StringKeywords = ["minLength", "maxLength"];

    private static readonly JsonWriterOptions CompactWriter = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly GbnfRuleSet _rules;
    private readonly JsonGrammarOptions _options;
    private readonly GroundingConstraints _grounding;
    private readonly JsonElement _document;
    private readonly string _prefix;
    private readonly Dictionary<string, string> _refRules = new(StringComparer.Ordinal);
    private readonly HashSet<string> _refsInProgress = new(StringComparer.Ordinal);

    public SchemaGbnfConverter(GbnfRuleSet rules, JsonGrammarOptions options, GroundingConstraints grounding, JsonElement document, string prefix)
    {
        _rules = rules;
        _options = options;
        _grounding = grounding;
        _document = document;
        _prefix = prefix;
    }

    /// <summary>The names of the shared rules, kept out of the names derived from property names.</summary>
    public static IReadOnlyList<string> SharedRuleNames { get; } =
        ["root", "ws", "char", "hex", "unicode-escape", "string", "integer", "number", "boolean", "null", "any-value", "any-object", "any-array"];

    /// <summary>The bounded whitespace between tokens; empty text when none is allowed.</summary>
    public string Ws => _options.MaxWhitespace == 0
        ? ""
        : _rules.Shared("ws", () => GbnfRuleSet.Repeat("[ \\n]", 0, _options.MaxWhitespace));

    /// <summary>The expression (a rule name or short inline text) for the whole document.</summary>
    public string ConvertDocument() => Convert(_document, "#", "", _prefix);

    /// <summary>A string of any content, within <see cref="JsonGrammarOptions.MaxStringLength"/>.</summary>
    public string AnyString() => StringRule(0, null, "#");

    /// <summary>A JSON string literal of <paramref name="value"/> with the fewest escapes JSON requires.</summary>
    public static string JsonString(string value)
    {
        var text = new StringBuilder(value.Length + 2).Append('"');
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            switch (c)
            {
                case '"': text.Append("\\\""); break;
                case '\\': text.Append("\\\\"); break;
                case '\n': text.Append("\\n"); break;
                case '\r': text.Append("\\r"); break;
                case '\t': text.Append("\\t"); break;
                case '\b': text.Append("\\b"); break;
                case '\f': text.Append("\\f"); break;
                default:
                    var loneSurrogate = char.IsSurrogate(c)
                        && !(char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
                        && !(char.IsLowSurrogate(c) && i > 0 && char.IsHighSurrogate(value[i - 1]));
                    if (c < ' ' || c == '\x7F' || loneSurrogate)
                    {
                        text.Append("\\u").Append(((int)c).ToString("X4", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        text.Append(c);
                    }

                    break;
            }
        }

        return text.Append('"').ToString();
    }

    private string Convert(JsonElement schema, string pointer, string path, string hint)
    {
        if (_grounding.TryGet(pointer, path, out var allowed))
        {
            return Grounded(schema, pointer, path, allowed, hint);
        }

        switch (schema.ValueKind)
        {
            case JsonValueKind.True:
                return AnyValue();
            case JsonValueKind.False:
                throw new NotSupportedException($"The false schema at '{pointer}' admits no value, so no grammar can be written for it.");
            case JsonValueKind.Object:
                break;
            default:
                throw new ArgumentException($"The schema at '{pointer}' is a {schema.ValueKind}, not an object or boolean.");
        }

        CheckKeywords(schema, pointer);
        if (schema.TryGetProperty("$ref", out var reference))
        {
            RequireAlone(schema, pointer, "$ref");
            return ConvertRef(reference, pointer, path, hint);
        }

        foreach (var combinator in (string[])["anyOf", "oneOf"])
        {
            if (schema.TryGetProperty(combinator, out var branches))
            {
                // oneOf is written as anyOf: exact when the branches are disjoint (e.g. a discriminating const), and a
                // document matching two branches is rare in model output; see the remarks on JsonSchemaGrammar.
                RequireAlone(schema, pointer, combinator);
                var alternatives = new List<string>();
                var index = 0;
                foreach (var branch in NonEmptyArray(branches, pointer, combinator))
                {
                    alternatives.Add(Convert(branch, $"{pointer}/{combinator}/{index}", path, $"{hint}-{index}"));
                    index++;
                }

                return Alternatives(hint, alternatives);
            }
        }

        if (schema.TryGetProperty("allOf", out var allOf))
        {
            RequireAlone(schema, pointer, "allOf");
            var parts = NonEmptyArray(allOf, pointer, "allOf");
            if (parts.Count != 1)
            {
                throw new NotSupportedException($"'allOf' with {parts.Count} schemas at '{pointer}' is not supported; only a single schema (a $ref wrapper) is.");
            }

            return Convert(parts[0], pointer + "/allOf/0", path, hint);
        }

        if (schema.TryGetProperty("enum", out _) || schema.TryGetProperty("const", out _))
        {
            // Without 'type', length keywords constrain only the string values of the enum.
            return EnumRule(schema, pointer, schema.TryGetProperty("type", out _) ? Types(schema, pointer) : [], hint);
        }

        var types = Types(schema, pointer);

        if (types.Count == 0)
        {
            return AnyValue();
        }

        var rules = types.Select(type => type switch
        {
            "string" => StringRule(IntKeyword(schema, pointer, "minLength") ?? 0, IntKeyword(schema, pointer, "maxLength"), pointer),
            "integer" => Integer(),
            "number" => Number(),
            "boolean" => _rules.Shared("boolean", () => "\"true\" | \"false\""),
            "null" => _rules.Shared("null", () => "\"null\""),
            "object" => ObjectRule(schema, pointer, path, types.Count == 1 ? hint : hint + "-object"),
            "array" => ArrayRule(schema, pointer, path, types.Count == 1 ? hint : hint + "-array"),
            _ => throw new InvalidOperationException(type),
        }).ToList();
        return Alternatives(hint, rules);
    }

    private string ConvertRef(JsonElement reference, string pointer, string path, string hint)
    {
        var target = reference.ValueKind == JsonValueKind.String ? reference.GetString()! : throw new ArgumentException($"'$ref' at '{pointer}' is not a string.");
        var key = _grounding.HasPathConstraints ? target + "@" + path : target;
        if (_refRules.TryGetValue(key, out var done))
        {
            return done;
        }

        if (!_refsInProgress.Add(key))
        {
            throw new NotSupportedException(
                $"The recursive '$ref' '{target}' at '{pointer}' is not supported: the grammar would allow unbounded nesting.");
        }

        var (resolved, targetPointer) = Resolve(target, pointer);
        var lastToken = targetPointer[(targetPointer.LastIndexOf('/') + 1)..];
        var refHint = lastToken.Length == 0 || targetPointer == "#" ? hint : (_prefix.Length == 0 ? lastToken : _prefix + "-" + lastToken);
        var expression = Convert(resolved, targetPointer, path, refHint);
        var name = IsRuleName(expression) ? expression : _rules.Add(refHint, expression);
        _refsInProgress.Remove(key);
        _refRules[key] = name;
        return name;
    }

    private (JsonElement Schema, string Pointer) Resolve(string reference, string pointer)
    {
        if (!reference.StartsWith('#'))
        {
            throw new NotSupportedException(
                $"The '$ref' '{reference}' at '{pointer}' is not supported: only references inside the schema ('#/$defs/...', '#/definitions/...') are.");
        }

        var fragment = Uri.UnescapeDataString(reference[1..]);
        if (fragment.Length > 0 && fragment[0] != '/')
        {
            throw new NotSupportedException($"The anchor '$ref' '{reference}' at '{pointer}' is not supported; use a JSON Pointer such as '#/$defs/Name'.");
        }

        var current = _document;
        foreach (var token in fragment.Split('/').Skip(1).Select(t => t.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal)))
        {
            var found = current.ValueKind switch
            {
                JsonValueKind.Object when current.TryGetProperty(token, out var child) => child,
                JsonValueKind.Array when int.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out var i) && i < current.GetArrayLength() => current[i],
                _ => (JsonElement?)null,
            };
            current = found ?? throw new ArgumentException($"The '$ref' '{reference}' at '{pointer}' points to nothing in the schema.");
        }

        return (current, "#" + fragment);
    }

    private string ObjectRule(JsonElement schema, string pointer, string path, string hint)
    {
        var ws = Ws;
        var properties = new List<(string Name, JsonElement Schema)>();
        if (schema.TryGetProperty("properties", out var declared))
        {
            if (declared.ValueKind != JsonValueKind.Object)
            {
                throw new ArgumentException($"'properties' at '{pointer}' is not an object.");
            }

            properties.AddRange(declared.EnumerateObject().Select(p => (p.Name, p.Value)));
        }

        var required = new HashSet<string>(StringComparer.Ordinal);
        if (schema.TryGetProperty("required", out var requiredList))
        {
            foreach (var name in requiredList.ValueKind == JsonValueKind.Array ? requiredList.EnumerateArray() : throw new ArgumentException($"'required' at '{pointer}' is not an array."))
            {
                var text = name.GetString() ?? throw new ArgumentException($"'required' at '{pointer}' holds a non-string.");
                if (!properties.Exists(p => p.Name == text))
                {
                    throw new NotSupportedException($"The required property '{text}' at '{pointer}' is not declared in 'properties', which the grammar needs to write it.");
                }

                required.Add(text);
            }
        }

        var hasAdditional = schema.TryGetProperty("additionalProperties", out var additional);
        if (properties.Count == 0)
        {
            if (hasAdditional && additional.ValueKind == JsonValueKind.False)
            {
                return _rules.Add(hint, GbnfRuleSet.Sequence("\"{\"", ws, "\"}\""));
            }

            // Declared properties only ever admit their own keys; with none declared, the schema describes a map.
            var value = hasAdditional
                ? Convert(additional, pointer + "/additionalProperties", path + ".*", hint + "-value")
                : AnyValue();
            return _rules.Add(hint, MapBody(value));
        }

        // Members keep the declared order. Extra keys are never written, even where the schema would allow them.
        var members = properties.Select(p =>
        {
            var childPath = path.Length == 0 ? p.Name : path + "." + p.Name;
            var value = Convert(p.Schema, $"{pointer}/properties/{EscapePointerToken(p.Name)}", childPath, $"{hint}-{p.Name}");
            return GbnfRuleSet.Sequence(GbnfRuleSet.Literal(JsonString(p.Name)), ws, "\":\"", ws, value, ws);
        }).ToList();
        var isRequired = properties.Select(p => required.Contains(p.Name)).ToList();

        string Tail(int from)
        {
            var parts = new List<string>();
            for (var k = from; k < members.Count; k++)
            {
                var next = GbnfRuleSet.Sequence("\",\"", ws, members[k]);
                parts.Add(isRequired[k] ? next : GbnfRuleSet.Atom(next) + "?");
            }

            return GbnfRuleSet.Sequence([.. parts]);
        }

        // Head(i): the members from i on when none has been written yet, so the first one written has no comma.
        string Head(int from)
        {
            if (from == members.Count)
            {
                return "";
            }

            var first = GbnfRuleSet.Sequence(members[from], Tail(from + 1));
            if (isRequired[from])
            {
                return first;
            }

            var rest = Head(from + 1);
            return rest.Length == 0 ? GbnfRuleSet.Atom(first) + "?" : "(" + first + " | " + rest + ")";
        }

        return _rules.Add(hint, GbnfRuleSet.Sequence("\"{\"", ws, Head(0), "\"}\""));
    }

    private string MapBody(string value)
    {
        var ws = Ws;
        var member = GbnfRuleSet.Sequence(AnyString(), ws, "\":\"", ws, value, ws);
        var more = GbnfRuleSet.Atom(GbnfRuleSet.Sequence("\",\"", ws, member));
        var list = GbnfRuleSet.Sequence(member, GbnfRuleSet.Repeat(more, 0, _options.MaxArrayItems - 1));
        return GbnfRuleSet.Sequence("\"{\"", ws, GbnfRuleSet.Atom(list) + "?", "\"}\"");
    }

    private string ArrayRule(JsonElement schema, string pointer, string path, string hint)
    {
        var item = AnyValueIfAbsent(schema, "items", pointer, path + "[]", hint + "-item");
        var min = IntKeyword(schema, pointer, "minItems") ?? 0;
        var max = Min(IntKeyword(schema, pointer, "maxItems"), _options.MaxArrayItems);
        if (min > max)
        {
            throw new NotSupportedException(
                $"'minItems' {min} at '{pointer}' exceeds 'maxItems' or the cap JsonGrammarOptions.MaxArrayItems ({_options.MaxArrayItems}).");
        }

        return _rules.Add(hint, ListBody("\"[\"", "\"]\"", item, min, max));
    }

    private string ListBody(string open, string close, string item, int min, int? max)
    {
        var ws = Ws;
        if (max == 0)
        {
            return GbnfRuleSet.Sequence(open, ws, close);
        }

        var more = GbnfRuleSet.Atom(GbnfRuleSet.Sequence("\",\"", ws, item, ws));
        var list = GbnfRuleSet.Sequence(item, ws, GbnfRuleSet.Repeat(more, Math.Max(min - 1, 0), max - 1));
        return GbnfRuleSet.Sequence(open, ws, min == 0 ? GbnfRuleSet.Atom(list) + "?" : list, close);
    }

    private string AnyValueIfAbsent(JsonElement schema, string keyword, string pointer, string path, string hint)
    {
        if (!schema.TryGetProperty(keyword, out var sub))
        {
            return AnyValue();
        }

        if (sub.ValueKind == JsonValueKind.Array)
        {
            throw new NotSupportedException($"'{keyword}' as an array of schemas (a tuple) at '{pointer}' is not supported.");
        }

        return Convert(sub, $"{pointer}/{keyword}", path, hint);
    }

    private string EnumRule(JsonElement schema, string pointer, IReadOnlyList<string> types, string hint)
    {
        var values = new List<JsonElement>();
        if (schema.TryGetProperty("enum", out var list))
        {
            values.AddRange(NonEmptyArray(list, pointer, "enum"));
        }

        if (schema.TryGetProperty("const", out var constant))
        {
            values = values.Count == 0 || values.Exists(v => JsonElement.DeepEquals(v, constant)) ? [constant] : [];
        }

        var min = IntKeyword(schema, pointer, "minLength") ?? 0;
        var max = IntKeyword(schema, pointer, "maxLength");
        var texts = values
            .Where(v => types.Count == 0 || types.Any(t => HasType(v, t)))
            .Where(v => v.ValueKind != JsonValueKind.String || FitsLength(v.GetString()!, min, max))
            .Select(CompactJson)
            .Distinct(StringComparer.Ordinal)
            .ToList();
        if (texts.Count == 0)
        {
            throw new ArgumentException($"No value of 'enum'/'const' at '{pointer}' fits the schema's other keywords, so nothing could be written.");
        }

        return _rules.Add(hint, LiteralChoice(texts));
    }

    private string Grounded(JsonElement schema, string pointer, string path, IReadOnlyCollection<string> allowed, string hint)
    {
        var texts = allowed
            .Where(v => Admits(schema, pointer, v, 0))
            .Select(JsonString)
            .Distinct(StringComparer.Ordinal)
            .ToList();
        if (texts.Count == 0)
        {
            throw new ArgumentException(
                $"None of the allowed values fits the schema at '{pointer}' (path '{path}'): it is not a string property, or its enum or length rules exclude them all.");
        }

        if (Admits(schema, pointer, null, 0))
        {
            texts.Add("null");
        }

        return _rules.Add(hint, LiteralChoice(texts));
    }

    /// <summary>Whether the schema admits the string <paramref name="value"/> (null: the JSON null), over the supported keywords.</summary>
    private bool Admits(JsonElement schema, string pointer, string? value, int depth)
    {
        if (depth > 64)
        {
            throw new NotSupportedException($"The schema at '{pointer}' refers to itself.");
        }

        if (schema.ValueKind is JsonValueKind.True or JsonValueKind.False)
        {
            return schema.ValueKind == JsonValueKind.True;
        }

        CheckKeywords(schema, pointer);
        if (schema.TryGetProperty("$ref", out var reference) && reference.GetString() is { } target)
        {
            var (resolved, targetPointer) = Resolve(target, pointer);
            if (!Admits(resolved, targetPointer, value, depth + 1))
            {
                return false;
            }
        }

        foreach (var combinator in (string[])["anyOf", "oneOf", "allOf"])
        {
            if (schema.TryGetProperty(combinator, out var branches))
            {
                var matches = NonEmptyArray(branches, pointer, combinator)
                    .Select((b, i) => Admits(b, $"{pointer}/{combinator}/{i}", value, depth + 1))
                    .Count(m => m);
                var ok = combinator switch
                {
                    "anyOf" => matches > 0,
                    "oneOf" => matches == 1,
                    _ => matches == branches.GetArrayLength(),
                };
                if (!ok)
                {
                    return false;
                }
            }
        }

        bool Same(JsonElement e) => value is null ? e.ValueKind == JsonValueKind.Null : e.ValueKind == JsonValueKind.String && e.GetString() == value;
        if (schema.TryGetProperty("enum", out var list) && !list.EnumerateArray().Any(Same))
        {
            return false;
        }

        if (schema.TryGetProperty("const", out var constant) && !Same(constant))
        {
            return false;
        }

        if (schema.TryGetProperty("type", out _) && !Types(schema, pointer).Contains(value is null ? "null" : "string"))
        {
            return false;
        }

        return value is null || FitsLength(value, IntKeyword(schema, pointer, "minLength") ?? 0, IntKeyword(schema, pointer, "maxLength"));
    }

    /// <summary>
    /// A choice between literal texts, factored into a prefix tree: a long id list then costs the sampler one path per
    /// shared prefix rather than one per id.
    /// </summary>
    private static string LiteralChoice(IEnumerable<string> texts)
    {
        var root = new PrefixNode();
        foreach (var text in texts)
        {
            var node = root;
            foreach (var rune in text.EnumerateRunes())
            {
                if (!node.Children.TryGetValue(rune.Value, out var child))
                {
                    child = new PrefixNode();
                    node.Children.Add(rune.Value, child);
                }

                node = child;
            }

            node.Terminal = true;
        }

        return root.ToGbnf();
    }

    private string StringRule(int min, int? max, string pointer)
    {
        var effectiveMax = Min(max, _options.MaxStringLength);
        if (min > effectiveMax)
        {
            throw new NotSupportedException(
                $"'minLength' {min} at '{pointer}' exceeds 'maxLength' or the cap JsonGrammarOptions.MaxStringLength ({_options.MaxStringLength}).");
        }

        var hex = _rules.Shared("hex", () => "[0-9A-Fa-f]");
        // \u escapes exclude the surrogate range D800-DFFF: a lone surrogate is not text, and System.Text.Json rejects it.
        var escape = _rules.Shared("unicode-escape", () =>
            $"[0-9A-Ca-c] {hex} {hex} {hex} | [Dd] [0-7] {hex} {hex} | [EFef] {hex} {hex} {hex}");
        var character = _rules.Shared("char", () => $"[^\"\\\\\\x00-\\x1F\\x7F] | \"\\\\\" ([\"\\\\/bfnrt] | \"u\" {escape})");
        string Body() => GbnfRuleSet.Sequence("\"\\\"\"", GbnfRuleSet.Repeat(character, min, effectiveMax), "\"\\\"\"");
        if (min == 0 && effectiveMax == _options.MaxStringLength)
        {
            return _rules.Shared("string", Body);
        }

        var maxText = effectiveMax is { } m ? m.ToString(CultureInfo.InvariantCulture) : "n";
        var suffix = string.Create(CultureInfo.InvariantCulture, $"{min}-{maxText}");
        return _rules.SharedByKey("string:" + suffix, "string-" + suffix, Body);
    }

    private string Integer() => _rules.Shared("integer", () =>
        "\"-\"? (\"0\" | [1-9] " + GbnfRuleSet.Repeat("[0-9]", 0, _options.MaxIntegerDigits - 1) + ")");

    private string Number()
    {
        var integer = Integer();
        // Bounded fraction and exponent digits: every admitted number is a finite double.
        return _rules.Shared("number", () => $"{integer} (\".\" [0-9]{{1,15}})? ([eE] [+-]? [0-9]{{1,2}})?");
    }

    private string AnyValue()
    {
        if (!_rules.Contains("any-value"))
        {
            _rules.Define("any-value", "any-object | any-array | " + AnyString() + " | " + Number() + " | \"true\" | \"false\" | \"null\"");
            _rules.Define("any-object", MapBody("any-value"));
            _rules.Define("any-array", ListBody("\"[\"", "\"]\"", "any-value", 0, _options.MaxArrayItems));
        }

        return "any-value";
    }

    private string Alternatives(string hint, IReadOnlyList<string> alternatives)
    {
        var distinct = alternatives.Distinct(StringComparer.Ordinal).ToList();
        return distinct.Count == 1 && IsRuleName(distinct[0]) ? distinct[0] : _rules.Add(hint, string.Join(" | ", distinct));
    }

    private static List<string> Types(JsonElement schema, string pointer)
    {
        var types = new List<string>();
        if (schema.TryGetProperty("type", out var type))
        {
            var names = type.ValueKind switch
            {
                JsonValueKind.String => [type],
                JsonValueKind.Array => type.EnumerateArray().ToList(),
                _ => throw new ArgumentException($"'type' at '{pointer}' is neither a string nor an array."),
            };
            foreach (var name in names.Select(n => n.GetString()))
            {
                if (name is not ("string" or "integer" or "number" or "boolean" or "null" or "object" or "array"))
                {
                    throw new ArgumentException($"'type' at '{pointer}' names the unknown type '{name}'.");
                }

                types.Add(name);
            }

            if (types.Contains("number"))
            {
                types.Remove("integer");
            }

            return types.Distinct(StringComparer.Ordinal).ToList();
        }

        // No type: infer it from the keywords that only apply to one type.
        var kinds = new (string Type, string[] Keywords)[] { ("object", ObjectKeywords), ("array", ArrayKeywords), ("string", StringKeywords) }
            .Where(k => k.Keywords.Any(w => schema.TryGetProperty(w, out _)))
            .Select(k => k.Type)
            .ToList();
        if (kinds.Count > 1 && !schema.TryGetProperty("enum", out _) && !schema.TryGetProperty("const", out _))
        {
            throw new NotSupportedException($"The schema at '{pointer}' has no 'type' but keywords of several types ({string.Join(", ", kinds)}); give it a 'type'.");
        }

        return kinds.Count == 1 ? kinds : [];
    }

    private static void CheckKeywords(JsonElement schema, string pointer)
    {
        foreach (var property in schema.EnumerateObject())
        {
            var known = Keywords.Contains(property.Name) || Annotations.Contains(property.Name) || (property.Name == "$id" && pointer == "#");
            if (!known)
            {
                throw new NotSupportedException($"The JSON Schema keyword '{property.Name}' at '{pointer}' is not supported by the grammar converter.");
            }
        }
    }

    private static void RequireAlone(JsonElement schema, string pointer, string keyword)
    {
        foreach (var property in schema.EnumerateObject())
        {
            if (property.Name != keyword && Keywords.Contains(property.Name))
            {
                throw new NotSupportedException($"The keyword '{property.Name}' beside '{keyword}' at '{pointer}' is not supported; move it into the referenced or alternative schemas.");
            }
        }
    }

    private static List<JsonElement> NonEmptyArray(JsonElement array, string pointer, string keyword)
    {
        if (array.ValueKind != JsonValueKind.Array || array.GetArrayLength() == 0)
        {
            throw new ArgumentException($"'{keyword}' at '{pointer}' must be a non-empty array.");
        }

        return array.EnumerateArray().ToList();
    }

    private static int? IntKeyword(JsonElement schema, string pointer, string keyword)
    {
        if (!schema.TryGetProperty(keyword, out var value))
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.Number && value.TryGetDecimal(out var d) && d >= 0 && d == decimal.Truncate(d) && d <= int.MaxValue
            ? (int)d
            : throw new ArgumentException($"'{keyword}' at '{pointer}' must be a non-negative integer.");
    }

    private static int? Min(int? a, int? b) => a is null ? b : b is null ? a : Math.Min(a.Value, b.Value);

    private static bool FitsLength(string value, int min, int? max)
    {
        // JSON Schema counts code points, as the grammar's character rule does.
        var length = value.EnumerateRunes().Count();
        return length >= min && (max is null || length <= max);
    }

    private static bool HasType(JsonElement value, string type) => type switch
    {
        "string" => value.ValueKind == JsonValueKind.String,
        "boolean" => value.ValueKind is JsonValueKind.True or JsonValueKind.False,
        "null" => value.ValueKind == JsonValueKind.Null,
        "object" => value.ValueKind == JsonValueKind.Object,
        "array" => value.ValueKind == JsonValueKind.Array,
        "number" => value.ValueKind == JsonValueKind.Number,
        "integer" => value.ValueKind == JsonValueKind.Number && value.TryGetDecimal(out var d) && d == decimal.Truncate(d),
        _ => false,
    };

    private static string CompactJson(JsonElement value)
    {
        if (value.ValueKind == JsonValueKind.String)
        {
            return JsonString(value.GetString()!);
        }

        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, CompactWriter))
        {
            value.WriteTo(writer);
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static string EscapePointerToken(string token) =>
        token.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal);

    private static bool IsRuleName(string expression) =>
        expression.Length > 0 && expression.All(c => char.IsAsciiLetterOrDigit(c) || c == '-');

    private sealed class PrefixNode
    {
        public SortedDictionary<int, PrefixNode> Children { get; } = [];

        public bool Terminal { get; set; }

        public string ToGbnf()
        {
            var alternatives = new List<string>();
            foreach (var (first, child) in Children)
            {
                // Runs without a branch become one literal.
                var label = new StringBuilder(char.ConvertFromUtf32(first));
                var node = child;
                while (!node.Terminal && node.Children.Count == 1)
                {
                    var (next, only) = node.Children.First();
                    label.Append(char.ConvertFromUtf32(next));
                    node = only;
                }

                alternatives.Add(GbnfRuleSet.Sequence(GbnfRuleSet.Literal(label.ToString()), node.Children.Count == 0 ? "" : node.ToGbnf()));
            }

            var choice = alternatives.Count == 1 ? alternatives[0] : "(" + string.Join(" | ", alternatives) + ")";
            return Terminal ? GbnfRuleSet.Atom(choice) + "?" : choice;
        }
    }
}
