using System.Text.Json;
using Assistant.Plugins.Grammar;

namespace Assistant.Plugins.Tests.Grammar;

public sealed class GroundingAndToolCallTests
{
    private const int Seed = 7_331;
    private static readonly string[] Catalog = ["sku-1", "sku-2", "sku-10", "sku-11", "sku-20", "shoe", "sku-\"q\""];

    [Fact]
    public void FromSchema_AllowedValuesByPath_OnlyCatalogIdsAreWritten()
    {
        var schema = SchemaCases.All["recommendation"].Element;
        var options = new JsonGrammarOptions { AllowedValues = new Dictionary<string, IReadOnlyCollection<string>> { ["items[].itemId"] = Catalog } };

        var seen = SampleItemIds(JsonSchemaGrammar.FromSchema(schema, options), schema);

        Assert.Equal(Catalog.Order(StringComparer.Ordinal), seen.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void WithAllowedValues_SchemaPointer_OnlyCatalogIdsAreWritten()
    {
        var schema = SchemaCases.All["recommendation"].Element;

        var gbnf = JsonSchemaGrammar.WithAllowedValues(schema, "/properties/items/items/properties/itemId", Catalog);
        var seen = SampleItemIds(gbnf, schema);
        var matcher = new GbnfMatcher(GbnfGrammar.Parse(gbnf));

        Assert.Equal(Catalog.Order(StringComparer.Ordinal), seen.Order(StringComparer.Ordinal));
        // Valid for the schema, but not in the catalog: the grammar cannot say it.
        Assert.True(new SchemaValidator(schema).IsValid("{\"items\":[{\"itemId\":\"sku-3\",\"reason\":\"r\"}]}"));
        Assert.False(matcher.Matches("{\"items\":[{\"itemId\":\"sku-3\",\"reason\":\"r\"}]}"));
        Assert.False(matcher.Matches("{\"items\":[{\"itemId\":\"sku-\",\"reason\":\"r\"}]}"));
        Assert.True(matcher.Matches("{\"items\":[{\"itemId\":\"sku-10\",\"reason\":\"r\"}]}"));
    }

    [Fact]
    public void WithAllowedValues_NullableWithMaxLength_KeepsNullAndDropsTooLongValues()
    {
        var schema = SchemaCase.Parse("{'type':'object','properties':{'pick':{'$ref':'#/$defs/id'}},'required':['pick'],'$defs':{'id':{'type':['string','null'],'maxLength':5}}}");

        var gbnf = JsonSchemaGrammar.WithAllowedValues(schema, "#/$defs/id", ["a", "toolong", "b"]);
        var sampler = new GbnfSampler(GbnfGrammar.Parse(gbnf), Seed);
        var picks = Enumerable.Range(0, 200).Select(_ => JsonDocument.Parse(sampler.Sample()).RootElement.GetProperty("pick"))
            .Select(p => p.ValueKind == JsonValueKind.Null ? "<null>" : p.GetString()!).ToHashSet();

        Assert.Equal(["<null>", "a", "b"], picks.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void AllowedValues_UnknownPathOrNonStringProperty_Throws()
    {
        var schema = SchemaCases.All["recommendation"].Element;

        Assert.Throws<ArgumentException>(() => JsonSchemaGrammar.FromSchema(schema, new JsonGrammarOptions
        {
            AllowedValues = new Dictionary<string, IReadOnlyCollection<string>> { ["items[].itemID"] = Catalog },
        }));
        Assert.Throws<ArgumentException>(() => JsonSchemaGrammar.WithAllowedValues(schema, "/properties/items/items/properties/score", Catalog));
        Assert.Throws<ArgumentException>(() => JsonSchemaGrammar.WithAllowedValues(schema, "/properties/items/items/properties/itemId", ["x-too-long-for-maxLength"]));
        Assert.Throws<ArgumentException>(() => JsonSchemaGrammar.WithAllowedValues(schema, "/properties/items/items/properties/itemId", []));
    }

    [Fact]
    public void ToolCallGrammar_SampledCalls_NameAKnownToolWithValidArguments()
    {
        var tools = Tools();
        var answerSchema = SchemaCase.Parse("{'type':'object','properties':{'text':{'type':'string','maxLength':40},'itemIds':{'type':'array','items':{'type':'string'},'maxItems':3}},'required':['text','itemIds'],'additionalProperties':false}");
        var gbnf = JsonSchemaGrammar.ToolCallGrammar(tools, answerSchema);
        var sampler = new GbnfSampler(GbnfGrammar.Parse(gbnf), Seed);
        var validators = tools.ToDictionary(t => t.Name, t => new SchemaValidator(t.ParametersSchema));
        var answerValidator = new SchemaValidator(answerSchema);
        var called = new HashSet<string>(StringComparer.Ordinal);
        var answers = 0;

        for (var i = 0; i < 300; i++)
        {
            var text = sampler.Sample();
            var root = JsonDocument.Parse(text).RootElement;
            if (root.TryGetProperty("tool", out var tool))
            {
                var name = tool.GetString()!;
                Assert.True(validators.ContainsKey(name), $"Unknown tool in {text}");
                Assert.True(validators[name].IsValid(root.GetProperty("arguments")), $"Arguments invalid for {name}: {text}");
                Assert.Equal(["tool", "arguments"], root.EnumerateObject().Select(p => p.Name));
                called.Add(name);
            }
            else
            {
                Assert.Equal(["answer"], root.EnumerateObject().Select(p => p.Name));
                Assert.True(answerValidator.IsValid(root.GetProperty("answer")), $"Answer invalid: {text}");
                answers++;
            }
        }

        Assert.Equal(tools.Select(t => t.Name).Order(StringComparer.Ordinal), called.Order(StringComparer.Ordinal));
        Assert.InRange(answers, 1, 299);
    }

    [Fact]
    public void ToolCallGrammar_WrongToolOrArguments_IsNotAdmitted()
    {
        var matcher = new GbnfMatcher(GbnfGrammar.Parse(JsonSchemaGrammar.ToolCallGrammar(Tools(), finalAnswerSchema: null)));

        Assert.True(matcher.Matches("{\"tool\": \"get_item\", \"arguments\": {\"itemId\": \"a\"}}"));
        Assert.True(matcher.Matches("{\"answer\": \"free text\"}"));
        Assert.False(matcher.Matches("{\"tool\":\"delete_all\",\"arguments\":{}}"));
        Assert.False(matcher.Matches("{\"tool\":\"get_item\",\"arguments\":{\"query\":\"x\"}}"));
        Assert.False(matcher.Matches("{\"tool\":\"compare\",\"arguments\":{\"itemIds\":[\"a\"]}}"));
        Assert.False(matcher.Matches("{\"answer\":\"x\",\"tool\":\"get_item\"}"));
        Assert.False(matcher.Matches("{\"answer\":1}"));
        Assert.Throws<ArgumentException>(() => JsonSchemaGrammar.ToolCallGrammar([.. Tools(), Tools()[0]], null));
    }

    [Fact]
    public void ToolCallGrammar_AllowedValues_ApplyInsideArguments()
    {
        var options = new JsonGrammarOptions { AllowedValues = new Dictionary<string, IReadOnlyCollection<string>> { ["itemIds[]"] = ["sku-1", "sku-2"] } };
        var matcher = new GbnfMatcher(GbnfGrammar.Parse(JsonSchemaGrammar.ToolCallGrammar(Tools(), null, options)));

        Assert.True(matcher.Matches("{\"tool\":\"compare\",\"arguments\":{\"itemIds\":[\"sku-2\",\"sku-1\"]}}"));
        Assert.False(matcher.Matches("{\"tool\":\"compare\",\"arguments\":{\"itemIds\":[\"sku-2\",\"sku-3\"]}}"));
    }

    private static List<(string Name, JsonElement ParametersSchema)> Tools() =>
    [
        ("search_catalog", SchemaCase.Parse("{'type':'object','properties':{'query':{'type':'string','maxLength':40},'limit':{'type':'integer'}},'required':['query'],'additionalProperties':false}")),
        ("get_item", SchemaCase.Parse("{'type':'object','properties':{'itemId':{'type':'string'}},'required':['itemId'],'additionalProperties':false}")),
        ("compare", SchemaCase.Parse("{'type':'object','properties':{'itemIds':{'type':'array','items':{'type':'string'},'minItems':2,'maxItems':3}},'required':['itemIds'],'additionalProperties':false}")),
    ];

    private static HashSet<string> SampleItemIds(string gbnf, JsonElement schema)
    {
        var sampler = new GbnfSampler(GbnfGrammar.Parse(gbnf), Seed);
        var validator = new SchemaValidator(schema);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < 300; i++)
        {
            var text = sampler.Sample();
            using var document = JsonDocument.Parse(text);
            Assert.True(validator.IsValid(document.RootElement), $"Invalid sample: {text}");
            foreach (var item in document.RootElement.GetProperty("items").EnumerateArray())
            {
                var id = item.GetProperty("itemId").GetString()!;
                Assert.Contains(id, Catalog);
                seen.Add(id);
            }
        }

        return seen;
    }
}
