using System.Globalization;
using System.Text;
using System.Text.Json;
using Assistant.Plugins.Grammar;
using Microsoft.Extensions.AI;

namespace Assistant.Plugins.Llm;

/// <summary>What one local generation must produce.</summary>
internal enum OutputShape
{
    /// <summary>Free text.</summary>
    Text,

    /// <summary>One JSON document valid for the response format's schema, forced by a grammar.</summary>
    Json,

    /// <summary><c>{"tool": name, "arguments": {...}}</c> or <c>{"answer": ...}</c>, forced by a grammar.</summary>
    ToolTurn,
}

/// <summary>
/// The shape, grammar and extra instructions of one request to the local model, from its <see cref="ChatOptions"/>:
/// tools (unless the tool mode is none or the tool-round limit is reached) give a tool-turn grammar, a JSON response
/// format gives that schema's grammar, otherwise free text.
/// </summary>
/// <remarks>
/// The protocol text below is glue between the grammar and the model, not a task prompt, so it lives here rather than
/// in <c>prompts/</c>: it must change together with the grammar.
/// </remarks>
internal sealed class GenerationPlan
{
    private static readonly JsonElement AnyObjectSchema = JsonDocument.Parse("""{"type":"object"}""").RootElement.Clone();

    private GenerationPlan(OutputShape shape, string? gbnf, IReadOnlyList<AIFunctionDeclaration> tools, bool toolRequired, bool answerIsJson, string? instructions)
    {
        Shape = shape;
        Gbnf = gbnf;
        Tools = tools;
        ToolRequired = toolRequired;
        AnswerIsJson = answerIsJson;
        Instructions = instructions;
    }

    public OutputShape Shape { get; }

    /// <summary>The GBNF grammar (root rule <c>root</c>) for <see cref="OutputShape.Json"/> and <see cref="OutputShape.ToolTurn"/>.</summary>
    public string? Gbnf { get; }

    public IReadOnlyList<AIFunctionDeclaration> Tools { get; }

    /// <summary>Whether the grammar admits only tool calls (a required tool mode).</summary>
    public bool ToolRequired { get; }

    /// <summary>Whether the answer is a JSON document (a response format) rather than a string.</summary>
    public bool AnswerIsJson { get; }

    /// <summary>Text for the end of the system turn that tells the model the shape the grammar will force.</summary>
    public string? Instructions { get; }

    /// <summary>Whether tools were offered but withheld because the model already made its allowed rounds of calls.</summary>
    public bool ToolRoundsExhausted { get; private init; }

    /// <exception cref="ArgumentException">A required tool is not among the tools.</exception>
    /// <exception cref="NotSupportedException">A schema uses a keyword the grammar converter does not support.</exception>
    public static GenerationPlan For(IReadOnlyList<ChatMessage> messages, ChatOptions? options, LlmOptions llm)
    {
        var grammarOptions = GrammarOptions(options, llm);
        var format = options?.ResponseFormat as ChatResponseFormatJson;
        JsonElement? answerSchema = format is null ? null : format.Schema ?? AnyObjectSchema;

        var tools = options?.ToolMode is NoneChatToolMode
            ? []
            : options?.Tools?.OfType<AIFunctionDeclaration>().ToList() ?? [];
        var required = options?.ToolMode as RequiredChatToolMode;
        if (required?.RequiredFunctionName is { } name)
        {
            tools = tools.Where(t => t.Name == name).ToList();
            if (tools.Count == 0)
            {
                throw new ArgumentException($"The required tool '{name}' is not among the request's tools.", nameof(options));
            }
        }

        var exhausted = false;
        if (tools.Count > 0 && required is null && ToolRoundsSinceUser(messages) >= llm.MaxToolRounds)
        {
            tools = [];
            exhausted = true;
        }

        if (tools.Count > 0)
        {
            var schemas = tools.Select(t => (t.Name, Parameters(t))).ToList();
            var gbnf = required is not null && !schemas.Any(s => HasReference(s.Item2))
                ? JsonSchemaGrammar.FromSchema(CallsOnlySchema(schemas), grammarOptions)
                : JsonSchemaGrammar.ToolCallGrammar(schemas, answerSchema, grammarOptions);
            return new GenerationPlan(OutputShape.ToolTurn, gbnf, tools, required is not null, answerSchema is not null,
                ToolInstructions(tools, required is not null, format));
        }

        if (answerSchema is { } schema)
        {
            return new GenerationPlan(OutputShape.Json, JsonSchemaGrammar.FromSchema(schema, grammarOptions), [], false, true, JsonInstructions(format!))
            {
                ToolRoundsExhausted = exhausted,
            };
        }

        return new GenerationPlan(OutputShape.Text, null, [], false, false, null) { ToolRoundsExhausted = exhausted };
    }

    /// <summary>
    /// The contents of the answer the model wrote: the text itself for <see cref="OutputShape.Text"/>; the JSON document
    /// for <see cref="OutputShape.Json"/>; for <see cref="OutputShape.ToolTurn"/> a <see cref="FunctionCallContent"/> for a
    /// tool call, or the answer (a string's value, or the JSON document of a response format) as text.
    /// </summary>
    /// <exception cref="LlmOutputException">The JSON is incomplete or malformed (for example cut off by the token allowance).</exception>
    public IList<AIContent> ReadOutput(string text, string finishNote)
    {
        if (Shape == OutputShape.Text)
        {
            return [new TextContent(text)];
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(text);
        }
        catch (JsonException e)
        {
            throw new LlmOutputException($"The model's output is not valid JSON ({finishNote}): {e.Message}", text, e);
        }

        using (document)
        {
            var root = document.RootElement;
            if (Shape == OutputShape.Json)
            {
                return [new TextContent(root.GetRawText())];
            }

            if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("tool", out var tool) && tool.ValueKind == JsonValueKind.String)
            {
                var arguments = new Dictionary<string, object?>(StringComparer.Ordinal);
                if (root.TryGetProperty("arguments", out var given) && given.ValueKind == JsonValueKind.Object)
                {
                    foreach (var property in given.EnumerateObject())
                    {
                        arguments[property.Name] = property.Value.Clone();
                    }
                }

                var callId = "call_" + Guid.NewGuid().ToString("N")[..16];
                return [new FunctionCallContent(callId, tool.GetString()!, arguments)];
            }

            if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("answer", out var answer))
            {
                return [new TextContent(answer.ValueKind == JsonValueKind.String && !AnswerIsJson ? answer.GetString() : answer.GetRawText())];
            }

            throw new LlmOutputException($"The model's output is neither a tool call nor an answer ({finishNote}).", text);
        }
    }

    /// <summary>The grammar bounds: the caller's, from <see cref="LocalLlamaChatClient.GrammarOptionsKey"/>, else the configured ones.</summary>
    private static JsonGrammarOptions GrammarOptions(ChatOptions? options, LlmOptions llm) =>
        options?.AdditionalProperties?.TryGetValue(LocalLlamaChatClient.GrammarOptionsKey, out var value) == true && value is JsonGrammarOptions given
            ? given
            : new JsonGrammarOptions { MaxStringLength = llm.JsonMaxStringLength, MaxArrayItems = llm.JsonMaxArrayItems };

    /// <summary>Rounds of tool calls since the last user message: assistant messages that carry calls.</summary>
    private static int ToolRoundsSinceUser(IReadOnlyList<ChatMessage> messages)
    {
        var rounds = 0;
        for (var i = messages.Count - 1; i >= 0 && messages[i].Role != ChatRole.User; i--)
        {
            if (messages[i].Role == ChatRole.Assistant && messages[i].Contents.Any(c => c is FunctionCallContent))
            {
                rounds++;
            }
        }

        return rounds;
    }

    /// <summary>
    /// A tool's parameters schema as the grammar converter takes it. Semantic Kernel 1.82 writes the function's
    /// description under a top-level <c>condition</c> key, which is no JSON Schema keyword and which the converter
    /// (strict about keywords it does not know) would refuse, so it is left out.
    /// </summary>
    private static JsonElement Parameters(AIFunctionDeclaration tool)
    {
        var schema = tool.JsonSchema;
        if (schema.ValueKind is JsonValueKind.True or JsonValueKind.False)
        {
            return schema;
        }

        if (schema.ValueKind != JsonValueKind.Object)
        {
            return AnyObjectSchema;
        }

        if (!schema.TryGetProperty("condition", out var condition) || condition.ValueKind != JsonValueKind.String)
        {
            return schema;
        }

        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            foreach (var property in schema.EnumerateObject().Where(p => p.Name != "condition"))
            {
                property.WriteTo(writer);
            }

            writer.WriteEndObject();
        }

        return JsonDocument.Parse(buffer.ToArray()).RootElement.Clone();
    }

    /// <summary>A schema as one line: the prompt pays a token for every space of an indented one.</summary>
    private static string Compact(JsonElement schema)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            schema.WriteTo(writer);
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static bool HasReference(JsonElement schema) =>
        schema.ValueKind == JsonValueKind.Object && schema.GetRawText().Contains("\"$ref\"", StringComparison.Ordinal);

    /// <summary>
    /// The schema of a turn that must call one of the tools. The tool-call grammar of <see cref="JsonSchemaGrammar"/>
    /// always admits an answer too, so a required call is written as a schema instead; its <c>$ref</c>s would point at
    /// the wrong document, so tools with references fall back to the grammar with an answer branch.
    /// </summary>
    private static JsonElement CallsOnlySchema(IReadOnlyList<(string Name, JsonElement Parameters)> tools)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteStartArray("anyOf");
            foreach (var (name, parameters) in tools)
            {
                writer.WriteStartObject();
                writer.WriteString("type", "object");
                writer.WriteStartObject("properties");
                writer.WriteStartObject("tool");
                writer.WriteString("const", name);
                writer.WriteEndObject();
                writer.WritePropertyName("arguments");
                parameters.WriteTo(writer);
                writer.WriteEndObject();
                writer.WriteStartArray("required");
                writer.WriteStringValue("tool");
                writer.WriteStringValue("arguments");
                writer.WriteEndArray();
                writer.WriteBoolean("additionalProperties", false);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        return JsonDocument.Parse(buffer.ToArray()).RootElement.Clone();
    }

    private static string ToolInstructions(IReadOnlyList<AIFunctionDeclaration> tools, bool required, ChatResponseFormatJson? format)
    {
        var text = new StringBuilder();
        text.Append("You can call tools. Reply with exactly one JSON object and nothing else:\n");
        text.Append("- to call a tool: {\"tool\": \"<tool name>\", \"arguments\": {<arguments>}}\n");
        if (!required)
        {
            text.Append(format?.Schema is { } schema
                ? "- to answer the user: {\"answer\": <a JSON document matching " + Compact(schema) + ">}\n"
                : "- to answer the user: {\"answer\": \"<your answer>\"}\n");
        }

        text.Append("Tools:\n");
        foreach (var tool in tools)
        {
            text.Append("- ").Append(tool.Name);
            if (!string.IsNullOrWhiteSpace(tool.Description))
            {
                text.Append(": ").Append(tool.Description.Trim());
            }

            text.Append(" Arguments schema: ").Append(Compact(Parameters(tool))).Append('\n');
        }

        return text.ToString().TrimEnd();
    }

    private static string JsonInstructions(ChatResponseFormatJson format)
    {
        var text = new StringBuilder("Reply with exactly one JSON document and nothing else");
        if (format.Schema is { } schema)
        {
            text.Append(CultureInfo.InvariantCulture, $", valid for this JSON schema{(format.SchemaName is { } n ? " (" + n + ")" : "")}: ").Append(Compact(schema));
        }

        if (!string.IsNullOrWhiteSpace(format.SchemaDescription))
        {
            text.Append("\nIt describes: ").Append(format.SchemaDescription.Trim());
        }

        return text.Append('.').ToString();
    }
}
