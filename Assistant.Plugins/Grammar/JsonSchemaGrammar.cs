using System.Text.Json;
using System.Text.Json.Schema;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Assistant.Plugins.Grammar;

/// <summary>
/// Turns a JSON Schema into a GBNF grammar (llama.cpp syntax, root rule <c>root</c>) for grammar-constrained sampling
/// through LLamaSharp: the model can then only write JSON documents that validate against the schema.
/// </summary>
/// <remarks>
/// <para>Supported subset: <c>type</c> (one or a list, so <c>["string","null"]</c> is nullable); objects with
/// <c>properties</c> (written in declared order; optional ones may be skipped), <c>required</c> and
/// <c>additionalProperties</c> (extra keys are never written; with no <c>properties</c>, a schema there makes a map);
/// arrays with <c>items</c>, <c>minItems</c>, <c>maxItems</c>; strings with <c>minLength</c>, <c>maxLength</c> and
/// JSON escapes; integers (no fraction or exponent) and numbers; booleans; null; <c>enum</c> and <c>const</c> of any
/// JSON values; <c>anyOf</c>, <c>oneOf</c> and a one-schema <c>allOf</c>; <c>$ref</c> to any JSON Pointer inside the
/// document (<c>#/$defs/...</c>, <c>#/definitions/...</c>). Annotations (<c>title</c>, <c>description</c>,
/// <c>default</c>, <c>examples</c>, ...) are ignored.</para>
/// <para>Anything else (<c>pattern</c>, <c>format</c>, <c>minimum</c>, <c>uniqueItems</c>, <c>not</c>,
/// <c>prefixItems</c>, recursive <c>$ref</c>, ...) throws <see cref="NotSupportedException"/> naming the keyword and
/// its schema location, rather than silently admitting invalid output.</para>
/// <para>The grammar may be stricter than the schema, never looser: lengths and counts are capped by
/// <see cref="JsonGrammarOptions"/>, integers have at most <see cref="JsonGrammarOptions.MaxIntegerDigits"/> digits,
/// extra keys are never written. One exception: <c>oneOf</c> is written as <c>anyOf</c>, which is exact when the
/// branches are disjoint (for instance told apart by a <c>const</c> discriminator).</para>
/// </remarks>
public static class JsonSchemaGrammar
{
    /// <summary>
    /// The serializer options <see cref="FromType{T}"/> describes, to deserialize model output with: camelCase names,
    /// enums as camelCase strings, nullable annotations and required constructor parameters respected, and unknown
    /// members rejected (so the exported schema carries <c>additionalProperties: false</c>). Read-only.
    /// </summary>
    public static JsonSerializerOptions SerializerOptions { get; } = CreateSerializerOptions();

    /// <summary>The GBNF grammar admitting exactly the JSON documents valid for <paramref name="schema"/> (within the bounds of the options).</summary>
    /// <param name="schema">A JSON Schema (draft 2020-12 or 7 keywords) as an object or boolean.</param>
    /// <exception cref="NotSupportedException">The schema uses a keyword outside the supported subset; the message names it and where.</exception>
    /// <exception cref="ArgumentException">The schema is malformed, or an allowed-values path names no string property.</exception>
    public static string FromSchema(JsonElement schema, JsonGrammarOptions? options = null) =>
        Build(options, null, (rules, opts, grounding) =>
            new SchemaGbnfConverter(rules, opts, grounding, schema, "").ConvertDocument());

    /// <summary>
    /// The grammar for the JSON form of <typeparamref name="T"/> under <see cref="SerializerOptions"/>: positional
    /// record parameters without a default value are required, nullable reference types admit <c>null</c>.
    /// </summary>
    /// <exception cref="NotSupportedException">The type maps to an unsupported schema, e.g. a recursive type or a <see cref="DateTime"/> (<c>format</c>).</exception>
    public static string FromType<T>(JsonGrammarOptions? options = null) => FromSchema(SchemaOf<T>(), options);

    /// <summary>The JSON Schema of <typeparamref name="T"/> under <see cref="SerializerOptions"/>, as <see cref="FromType{T}"/> converts it.</summary>
    public static JsonElement SchemaOf<T>()
    {
        var node = SerializerOptions.GetJsonSchemaAsNode(typeof(T), new JsonSchemaExporterOptions { TreatNullObliviousAsNonNullable = true });
        return JsonSerializer.SerializeToElement(node, SerializerOptions);
    }

    /// <summary>
    /// The grammar of <paramref name="schema"/> where one string property may only be one of <paramref name="allowed"/>
    /// (grounding: "what is not in the catalog cannot be said"). The property keeps <c>null</c> if the schema allows it.
    /// </summary>
    /// <param name="jsonPointerToStringProperty">
    /// A JSON Pointer into the schema document to the property's subschema, e.g.
    /// <c>/properties/items/items/properties/itemId</c> or <c>/$defs/Pick/properties/itemId</c> (a leading <c>#</c> is
    /// accepted). The constraint holds wherever that subschema is used.
    /// </param>
    /// <param name="allowed">The values; those the schema itself excludes (enum, length) are dropped.</param>
    /// <exception cref="ArgumentException">The pointer names no string subschema that is used, or no value is left.</exception>
    public static string WithAllowedValues(
        JsonElement schema, string jsonPointerToStringProperty, IReadOnlyCollection<string> allowed, JsonGrammarOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(jsonPointerToStringProperty);
        ArgumentNullException.ThrowIfNull(allowed);
        var byPointer = new Dictionary<string, IReadOnlyCollection<string>>(StringComparer.Ordinal) { [jsonPointerToStringProperty] = allowed };
        return Build(options, byPointer, (rules, opts, grounding) =>
            new SchemaGbnfConverter(rules, opts, grounding, schema, "").ConvertDocument());
    }

    /// <summary>
    /// The grammar of one turn of a tool-using model: either <c>{"tool": "&lt;name&gt;", "arguments": {...}}</c> with the
    /// arguments valid for that tool's parameters schema, or <c>{"answer": ...}</c> valid for
    /// <paramref name="finalAnswerSchema"/> (any string when null). Keys come in that order.
    /// </summary>
    /// <param name="tools">Tool names (unique, non-empty) with their parameters schemas; may be empty (answer only).</param>
    /// <exception cref="ArgumentException">A tool name is empty or repeated.</exception>
    /// <exception cref="NotSupportedException">A schema uses a keyword outside the supported subset.</exception>
    public static string ToolCallGrammar(
        IReadOnlyList<(string Name, JsonElement ParametersSchema)> tools, JsonElement? finalAnswerSchema, JsonGrammarOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(tools);
        var duplicate = tools.GroupBy(t => t.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new ArgumentException($"The tool name '{duplicate.Key}' is given twice.", nameof(tools));
        }

        if (tools.Any(t => string.IsNullOrEmpty(t.Name)))
        {
            throw new ArgumentException("A tool name is empty.", nameof(tools));
        }

        return Build(options, null, (rules, opts, grounding) =>
        {
            var answerConverter = new SchemaGbnfConverter(rules, opts, grounding, finalAnswerSchema ?? default, "answer");
            var ws = answerConverter.Ws;
            var calls = new List<string>();
            foreach (var (name, parameters) in tools)
            {
                var arguments = new SchemaGbnfConverter(rules, opts, grounding, parameters, "tool-" + name).ConvertDocument();
                calls.Add(GbnfRuleSet.Sequence(
                    GbnfRuleSet.Literal(SchemaGbnfConverter.JsonString(name)), ws, "\",\"", ws,
                    GbnfRuleSet.Literal("\"arguments\""), ws, "\":\"", ws, arguments, ws));
            }

            var answer = finalAnswerSchema is null ? answerConverter.AnyString() : answerConverter.ConvertDocument();
            var answerMember = GbnfRuleSet.Sequence(GbnfRuleSet.Literal("\"answer\""), ws, "\":\"", ws, answer, ws);
            var members = calls.Count == 0
                ? answerMember
                : GbnfRuleSet.Sequence(GbnfRuleSet.Literal("\"tool\""), ws, "\":\"", ws, rules.Add("tool-call", string.Join(" | ", calls))) + " | " + answerMember;
            return GbnfRuleSet.Sequence("\"{\"", ws, GbnfRuleSet.Atom(members), "\"}\"");
        });
    }

    private static string Build(
        JsonGrammarOptions? options,
        IReadOnlyDictionary<string, IReadOnlyCollection<string>>? byPointer,
        Func<GbnfRuleSet, JsonGrammarOptions, GroundingConstraints, string> root)
    {
        options ??= JsonGrammarOptions.Default;
        options.Validate();
        var grounding = new GroundingConstraints(options.AllowedValues, byPointer);
        var rules = new GbnfRuleSet(SchemaGbnfConverter.SharedRuleNames);
        rules.Define(GbnfRuleSet.RootName, root(rules, options, grounding));
        grounding.EnsureAllApplied();
        return rules.Render();
    }

    private static JsonSerializerOptions CreateSerializerOptions()
    {
        var options = new JsonSerializerOptions
        {
            PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
            RespectNullableAnnotations = true,
            RespectRequiredConstructorParameters = true,
            UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
            TypeInfoResolver = new DefaultJsonTypeInfoResolver(),
        };
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase));
        options.MakeReadOnly();
        return options;
    }
}
