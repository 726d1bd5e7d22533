using System.Text.Json;
using Assistant.Plugins.Grammar;
using Xunit.Abstractions;

namespace Assistant.Plugins.Tests.Grammar;

public sealed class JsonSchemaGrammarTests(ITestOutputHelper output)
{
    private const int Seed = 20_240_611;
    private const int SamplesPerSchema = 200;

    public static TheoryData<string> SchemaNames => [.. SchemaCases.All.Keys];

    public static TheoryData<string, string> ValidDocuments => Pairs(c => c.Valid);

    public static TheoryData<string, string> InvalidDocuments => Pairs(c => c.Invalid);

    [Theory]
    [MemberData(nameof(SchemaNames))]
    public void FromSchema_SampledDocuments_ParseAndValidate(string name)
    {
        var schema = SchemaCases.All[name].Element;
        var gbnf = JsonSchemaGrammar.FromSchema(schema);
        var grammar = GbnfGrammar.Parse(gbnf);
        var validator = new SchemaValidator(schema);
        var matcher = new GbnfMatcher(grammar);
        var sampler = new GbnfSampler(grammar, Seed);
        output.WriteLine($"seed {Seed}\n{gbnf}");

        var distinct = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < SamplesPerSchema; i++)
        {
            var text = sampler.Sample();
            distinct.Add(text);
            using var document = ParseOrFail(text, gbnf);
            Assert.True(validator.IsValid(document.RootElement), $"Sample {i} is not valid for '{name}': {text}\n{gbnf}");
            Assert.True(matcher.Matches(text), $"The matcher refuses sample {i} of its own grammar: {text}");
        }

        Assert.True(distinct.Count >= 10, $"Only {distinct.Count} distinct samples for '{name}'.");
    }

    [Theory]
    [MemberData(nameof(ValidDocuments))]
    public void FromSchema_HandWrittenValidDocument_IsAdmitted(string name, string document)
    {
        var schemaCase = SchemaCases.All[name];
        var json = document.Replace('\'', '"');
        var matcher = new GbnfMatcher(GbnfGrammar.Parse(JsonSchemaGrammar.FromSchema(schemaCase.Element)));

        Assert.True(new SchemaValidator(schemaCase.Element).IsValid(json), $"Test data: {json} should be valid.");
        Assert.True(matcher.Matches(json), $"The grammar of '{name}' refuses {json}");
    }

    [Theory]
    [MemberData(nameof(InvalidDocuments))]
    public void FromSchema_InvalidDocument_IsNotAdmitted(string name, string document)
    {
        var schemaCase = SchemaCases.All[name];
        var json = document.Replace('\'', '"');
        var matcher = new GbnfMatcher(GbnfGrammar.Parse(JsonSchemaGrammar.FromSchema(schemaCase.Element)));

        Assert.False(new SchemaValidator(schemaCase.Element).IsValid(json), $"Test data: {json} should be invalid.");
        Assert.False(matcher.Matches(json), $"The grammar of '{name}' admits the invalid {json}");
    }

    [Fact]
    public void FromSchema_Whitespace_IsBoundedByOptions()
    {
        var schema = SchemaCase.Parse("{'type':'object','properties':{'a':{'type':'array','items':{'type':'integer'}}},'required':['a']}");
        var standard = new GbnfMatcher(GbnfGrammar.Parse(JsonSchemaGrammar.FromSchema(schema)));
        var compact = new GbnfMatcher(GbnfGrammar.Parse(JsonSchemaGrammar.FromSchema(schema, new JsonGrammarOptions { MaxWhitespace = 0 })));
        var loose = new GbnfMatcher(GbnfGrammar.Parse(JsonSchemaGrammar.FromSchema(schema, new JsonGrammarOptions { MaxWhitespace = 2 })));

        Assert.True(standard.Matches("{\n\"a\": [1, 2]\n}"));
        Assert.False(standard.Matches("{  \"a\": [1]}"));
        Assert.False(standard.Matches(" {\"a\":[1]}"));
        Assert.True(compact.Matches("{\"a\":[1,2]}"));
        Assert.False(compact.Matches("{\"a\": [1,2]}"));
        Assert.True(loose.Matches("{  \"a\" :\n [1 ,  2]}"));
        Assert.False(loose.Matches("{   \"a\":[1]}"));
    }

    [Fact]
    public void FromSchema_Caps_MakeTheGrammarStricterNotLooser()
    {
        var schema = SchemaCase.Parse("{'type':'array','items':{'type':'string'}}");
        var options = new JsonGrammarOptions { MaxArrayItems = 2, MaxStringLength = 3, MaxIntegerDigits = 2 };
        var matcher = new GbnfMatcher(GbnfGrammar.Parse(JsonSchemaGrammar.FromSchema(schema, options)));
        var integers = new GbnfMatcher(GbnfGrammar.Parse(JsonSchemaGrammar.FromSchema(SchemaCase.Parse("{'type':'integer'}"), options)));

        Assert.True(matcher.Matches("[\"abc\",\"\"]"));
        Assert.False(matcher.Matches("[\"a\",\"b\",\"c\"]"));
        Assert.False(matcher.Matches("[\"abcd\"]"));
        Assert.True(integers.Matches("-99"));
        Assert.False(integers.Matches("100"));
        Assert.False(integers.Matches("01"));
        Assert.Throws<NotSupportedException>(() => JsonSchemaGrammar.FromSchema(SchemaCase.Parse("{'type':'array','minItems':3}"), options));
        Assert.Throws<ArgumentOutOfRangeException>(() => JsonSchemaGrammar.FromSchema(schema, new JsonGrammarOptions { MaxWhitespace = -1 }));
    }

    [Fact]
    public void FromSchema_GrammarText_FollowsLlamaCppConventions()
    {
        var gbnf = JsonSchemaGrammar.FromSchema(SchemaCases.All["defs-ref"].Element);
        var lines = gbnf.Split('\n', StringSplitOptions.RemoveEmptyEntries);

        Assert.StartsWith("root ::= ", lines[0], StringComparison.Ordinal);
        Assert.All(lines, line => Assert.Matches("^[a-z0-9-]+ ::= ", line));
        // The shared definition is written once and referred to from both places.
        Assert.Single(lines, line => line.StartsWith("money ::= ", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("{'type':'object','properties':{'code':{'type':'string','pattern':'^[A-Z]+$'}}}", "pattern", "#/properties/code")]
    [InlineData("{'type':'object','properties':{'n':{'type':'integer','minimum':0}}}", "minimum", "#/properties/n")]
    [InlineData("{'type':'string','format':'date-time'}", "format", "#")]
    [InlineData("{'type':'array','items':{'type':'integer'},'uniqueItems':true}", "uniqueItems", "#")]
    [InlineData("{'anyOf':[{'type':'string'},{'not':{'type':'null'}}]}", "not", "#/anyOf/1")]
    [InlineData("{'type':'array','prefixItems':[{'type':'integer'}]}", "prefixItems", "#")]
    [InlineData("{'type':'object','properties':{'next':{'$ref':'#'}}}", "recursive", "#/properties/next")]
    [InlineData("{'$defs':{'n':{'type':'object','properties':{'kids':{'type':'array','items':{'$ref':'#/$defs/n'}}}}},'$ref':'#/$defs/n'}", "recursive", "#/$defs/n/properties/kids/items")]
    [InlineData("{'$ref':'https://example.com/schema.json'}", "https://example.com/schema.json", "#")]
    [InlineData("{'type':'string','anyOf':[{'maxLength':2}]}", "anyOf", "#")]
    public void FromSchema_UnsupportedKeyword_ThrowsNamingKeywordAndPath(string schema, string keyword, string path)
    {
        var error = Assert.Throws<NotSupportedException>(() => JsonSchemaGrammar.FromSchema(SchemaCase.Parse(schema)));

        Assert.Contains(keyword, error.Message, StringComparison.Ordinal);
        Assert.Contains($"'{path}'", error.Message, StringComparison.Ordinal);
    }

    private static TheoryData<string, string> Pairs(Func<SchemaCase, string[]> documents)
    {
        var data = new TheoryData<string, string>();
        foreach (var (name, schemaCase) in SchemaCases.All)
        {
            foreach (var document in documents(schemaCase))
            {
                data.Add(name, document);
            }
        }

        return data;
    }

    private static JsonDocument ParseOrFail(string text, string gbnf)
    {
        try
        {
            return JsonDocument.Parse(text);
        }
        catch (JsonException e)
        {
            Assert.Fail($"Not JSON ({e.Message}): {text}\n{gbnf}");
            throw;
        }
    }
}
