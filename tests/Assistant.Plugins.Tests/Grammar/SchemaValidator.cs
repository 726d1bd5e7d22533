using System.Text.Json;
using Json.Schema;

namespace Assistant.Plugins.Tests.Grammar;

/// <summary>An independent check of documents against a schema, through JsonSchema.Net (draft 2020-12).</summary>
internal sealed class SchemaValidator
{
    private readonly JsonSchema _schema;

    public SchemaValidator(JsonElement schema)
    {
        // A private registry and a unique base URI: every test schema is registered on its own.
        var options = new BuildOptions { Dialect = Dialect.Draft202012, SchemaRegistry = new SchemaRegistry() };
        _schema = JsonSchema.Build(schema, options, new Uri($"https://grammar.test/{Guid.NewGuid():N}"));
    }

    public bool IsValid(JsonElement instance) => _schema.Evaluate(instance).IsValid;

    public bool IsValid(string json)
    {
        using var document = JsonDocument.Parse(json);
        return IsValid(document.RootElement);
    }
}
