using System.ComponentModel.DataAnnotations;

namespace Assistant.Plugins.Llm;

/// <summary>Where the assistant's text comes from.</summary>
public enum LlmProvider
{
    /// <summary>No model: template text marked as not generated (<see cref="OfflineChatClient"/>).</summary>
    Offline,

    /// <summary>A GGUF model run in-process on the CPU through LLamaSharp (<see cref="LocalLlamaChatClient"/>).</summary>
    Local,

    /// <summary>An OpenAI-compatible HTTP endpoint: OpenAI, vLLM, the llama.cpp server, Ollama.</summary>
    OpenAI,
}

/// <summary>The <c>Llm</c> configuration section: which model answers, and within which limits.</summary>
public sealed class LlmOptions
{
    public const string SectionName = "Llm";

    public LlmProvider Provider { get; set; } = LlmProvider.Offline;

    /// <summary>The GGUF file for <see cref="LlmProvider.Local"/>.</summary>
    public string? ModelPath { get; set; }

    /// <summary>Tokens the local model sees at once: prompt and answer together. Older messages are dropped to fit.</summary>
    [Range(64, 1 << 20)]
    public int ContextSize { get; set; } = 2048;

    /// <summary>The most tokens one answer may have, unless the request's <c>ChatOptions.MaxOutputTokens</c> says otherwise.</summary>
    [Range(1, 1 << 20)]
    public int MaxOutputTokens { get; set; } = 256;

    /// <summary>CPU threads for the local model; null lets llama.cpp choose.</summary>
    [Range(1, 1024)]
    public int? Threads { get; set; }

    [Range(0.0, 2.0)]
    public float Temperature { get; set; } = 0.7f;

    /// <summary>The sampling seed, so that a local answer can be repeated; a request's <c>ChatOptions.Seed</c> wins.</summary>
    public int Seed { get; set; } = 42;

    /// <summary>The base URL of an OpenAI-compatible API, e.g. <c>http://localhost:8000/v1</c>.</summary>
    public string? Endpoint { get; set; }

    /// <summary>The API key; servers that want none (vLLM, Ollama, llama.cpp) get a placeholder.</summary>
    public string? ApiKey { get; set; }

    /// <summary>The model name sent to an OpenAI-compatible endpoint.</summary>
    public string? Model { get; set; }

    /// <summary>
    /// Wall-clock limit of one call in milliseconds, waiting for a busy local model included; past it the call throws
    /// <see cref="TimeoutException"/> so that the caller can fall back to its template. 0 for no limit.
    /// </summary>
    [Range(0, int.MaxValue)]
    public int TimeBudgetMs { get; set; } = 4000;

    /// <summary>
    /// Rounds of tool calls the local model may make after the last user message before it must answer. Small models
    /// otherwise can call tools in a loop until the caller's iteration limit.
    /// </summary>
    [Range(0, 64)]
    public int MaxToolRounds { get; set; } = 2;

    /// <summary>
    /// The most characters of any string in grammar-forced JSON (tool arguments, answers, response formats), on top of
    /// the schema's own <c>maxLength</c>. A model that never closes a string would otherwise run into the token allowance
    /// and leave the document unfinished.
    /// </summary>
    [Range(1, 1 << 16)]
    public int JsonMaxStringLength { get; set; } = 256;

    /// <summary>The most items of any array (and members of any free-form object) in grammar-forced JSON, on top of the schema's <c>maxItems</c>.</summary>
    [Range(1, 1 << 16)]
    public int JsonMaxArrayItems { get; set; } = 16;

    /// <summary>
    /// The problems that would make this configuration fail later, each naming its key; empty when it is usable. A missing
    /// model file is reported here so that the host fails at start-up rather than on the first request.
    /// </summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (!Enum.IsDefined(Provider))
        {
            errors.Add($"{SectionName}:Provider '{Provider}' is not one of Offline, Local, OpenAI.");
        }

        if (MaxOutputTokens < 1)
        {
            errors.Add($"{SectionName}:MaxOutputTokens must be at least 1 (it is {MaxOutputTokens}).");
        }

        if (TimeBudgetMs < 0)
        {
            errors.Add($"{SectionName}:TimeBudgetMs must not be negative (0 means no limit; it is {TimeBudgetMs}).");
        }

        if (Temperature is < 0 or > 2 || float.IsNaN(Temperature))
        {
            errors.Add($"{SectionName}:Temperature must be between 0 and 2 (it is {Temperature}).");
        }

        if (JsonMaxStringLength < 1 || JsonMaxArrayItems < 1)
        {
            errors.Add($"{SectionName}:JsonMaxStringLength and {SectionName}:JsonMaxArrayItems must be at least 1.");
        }

        if (MaxToolRounds < 0)
        {
            errors.Add($"{SectionName}:MaxToolRounds must not be negative (it is {MaxToolRounds}).");
        }

        switch (Provider)
        {
            case LlmProvider.Local:
                if (string.IsNullOrWhiteSpace(ModelPath))
                {
                    errors.Add($"{SectionName}:ModelPath is required when {SectionName}:Provider is Local.");
                }
                else if (!File.Exists(ModelPath))
                {
                    errors.Add($"{SectionName}:ModelPath '{ModelPath}' does not exist.");
                }

                if (ContextSize < 64)
                {
                    errors.Add($"{SectionName}:ContextSize must be at least 64 (it is {ContextSize}).");
                }
                else if (MaxOutputTokens >= ContextSize)
                {
                    errors.Add($"{SectionName}:MaxOutputTokens ({MaxOutputTokens}) must be less than {SectionName}:ContextSize ({ContextSize}), leaving room for the prompt.");
                }

                if (Threads is < 1)
                {
                    errors.Add($"{SectionName}:Threads must be at least 1 when set (it is {Threads}).");
                }

                break;
            case LlmProvider.OpenAI:
                if (string.IsNullOrWhiteSpace(Endpoint))
                {
                    errors.Add($"{SectionName}:Endpoint is required when {SectionName}:Provider is OpenAI.");
                }
                else if (!Uri.TryCreate(Endpoint, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
                {
                    errors.Add($"{SectionName}:Endpoint '{Endpoint}' is not an absolute http(s) URL.");
                }

                if (string.IsNullOrWhiteSpace(Model))
                {
                    errors.Add($"{SectionName}:Model is required when {SectionName}:Provider is OpenAI.");
                }

                break;
        }

        return errors;
    }

    /// <summary>Throws when <see cref="Validate"/> finds problems, with all of them in the message.</summary>
    /// <exception cref="InvalidOperationException">The configuration is not usable.</exception>
    public void EnsureValid()
    {
        var errors = Validate();
        if (errors.Count > 0)
        {
            throw new InvalidOperationException("Invalid LLM configuration: " + string.Join(" ", errors));
        }
    }

    internal TimeSpan? TimeBudget => TimeBudgetMs > 0 ? TimeSpan.FromMilliseconds(TimeBudgetMs) : null;
}
