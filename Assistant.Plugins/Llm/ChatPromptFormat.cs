using System.Text;
using LLama;
using LLama.Exceptions;

namespace Assistant.Plugins.Llm;

/// <summary>
/// One message as the prompt sees it: a role name every chat template knows and plain text. Tool results are user
/// turns (<paramref name="IsToolResult"/>), because llama.cpp's built-in templates do not all know a tool role.
/// </summary>
internal readonly record struct PromptTurn(string Role, string Content, bool IsToolResult = false)
{
    public const string System = "system";
    public const string User = "user";
    public const string Assistant = "assistant";
}

/// <summary>
/// Renders turns into the text a local model continues: with the chat template from the GGUF metadata
/// (<c>tokenizer.chat_template</c>, applied by llama.cpp's <c>llama_chat_apply_template</c> through
/// <see cref="LLamaTemplate"/>), or, for a model with no template or one llama.cpp does not recognise, a plain
/// <c>User:</c>/<c>Assistant:</c> transcript whose next <c>User:</c> line ends the answer.
/// </summary>
internal sealed class ChatPromptFormat
{
    public const string ChatTemplateKey = "tokenizer.chat_template";

    private readonly LLamaWeights _weights;
    private readonly string? _bosText;

    private ChatPromptFormat(LLamaWeights weights, bool usesModelTemplate)
    {
        _weights = weights;
        UsesModelTemplate = usesModelTemplate;

        // The tokenizer adds BOS itself; a template that writes it too (Llama 2, Llama 3) would give two.
        var vocab = weights.Vocab;
        if (usesModelTemplate && vocab.ShouldAddBOS && vocab.BOS is { } bos)
        {
            var text = vocab.LLamaTokenToString(bos, true);
            _bosText = string.IsNullOrEmpty(text) ? null : text;
        }
    }

    public bool UsesModelTemplate { get; }

    /// <summary>Text the model may write that ends its answer: the start of the next turn in the plain format.</summary>
    public IReadOnlyList<string> StopSequences => UsesModelTemplate ? [] : ["\nUser:", "\nSystem:"];

    public string Description => UsesModelTemplate ? "the model's chat template" : "a plain User:/Assistant: transcript";

    /// <summary>The format for a loaded model: its own template when it has one that llama.cpp can apply.</summary>
    public static ChatPromptFormat For(LLamaWeights weights, out string? templateProblem)
    {
        templateProblem = null;
        if (!weights.Metadata.TryGetValue(ChatTemplateKey, out var template) || string.IsNullOrWhiteSpace(template))
        {
            return new ChatPromptFormat(weights, false);
        }

        var candidate = new ChatPromptFormat(weights, true);
        try
        {
            // llama.cpp recognises a fixed list of templates by their text; anything else fails here, once, at load.
            _ = candidate.Render([new PromptTurn(PromptTurn.System, "s"), new PromptTurn(PromptTurn.User, "u")]);
            return candidate;
        }
        catch (MissingTemplateException e)
        {
            templateProblem = e.Message;
            return new ChatPromptFormat(weights, false);
        }
    }

    /// <summary>The prompt for <paramref name="turns"/>, ending where the assistant's answer begins.</summary>
    public string Render(IReadOnlyList<PromptTurn> turns)
    {
        if (!UsesModelTemplate)
        {
            return RenderPlain(turns);
        }

        var template = new LLamaTemplate(_weights, strict: true) { AddAssistant = true };
        foreach (var turn in turns)
        {
            template.Add(turn.Role, turn.Content);
        }

        var text = LLamaTemplate.Encoding.GetString(template.Apply());
        return _bosText is not null && text.StartsWith(_bosText, StringComparison.Ordinal) ? text[_bosText.Length..] : text;
    }

    /// <summary>Tokens the prompt takes, as the executor will tokenize it (BOS added, special tokens parsed).</summary>
    public int CountTokens(string prompt) => _weights.Tokenize(prompt, true, true, Encoding.UTF8).Length;

    private static string RenderPlain(IReadOnlyList<PromptTurn> turns)
    {
        var text = new StringBuilder();
        foreach (var (role, content, _) in turns)
        {
            var label = role switch
            {
                PromptTurn.System => "System",
                PromptTurn.Assistant => "Assistant",
                _ => "User",
            };
            text.Append(label).Append(": ").Append(content.Trim()).Append('\n');
            if (role == PromptTurn.System)
            {
                text.Append('\n');
            }
        }

        return text.Append("Assistant:").ToString();
    }
}
