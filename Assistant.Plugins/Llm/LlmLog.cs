using Microsoft.Extensions.Logging;

namespace Assistant.Plugins.Llm;

/// <summary>The log lines of the LLM clients, one per event or degradation.</summary>
internal static partial class LlmLog
{
    [LoggerMessage(EventId = 4100, Level = LogLevel.Information,
        Message = "Loaded the local model {ModelPath} in {ElapsedMs:0} ms; context {ContextSize} tokens; prompts use {PromptFormat}")]
    public static partial void ModelLoaded(ILogger logger, string modelPath, double elapsedMs, int contextSize, string promptFormat);

    [LoggerMessage(EventId = 4101, Level = LogLevel.Warning,
        Message = "The model's chat template is not one llama.cpp can apply ({Problem}); using a plain User:/Assistant: transcript")]
    public static partial void TemplateNotApplicable(ILogger logger, string problem);

    [LoggerMessage(EventId = 4102, Level = LogLevel.Information,
        Message = "Dropped the {Dropped} oldest of {Total} messages to fit the context: prompt {PromptTokens} tokens + answer {MaxOutputTokens} <= {ContextSize}")]
    public static partial void MessagesDropped(ILogger logger, int dropped, int total, int promptTokens, int maxOutputTokens, int contextSize);

    [LoggerMessage(EventId = 4103, Level = LogLevel.Information,
        Message = "The model made {Rounds} rounds of tool calls; tools withheld so that it answers")]
    public static partial void ToolRoundsExhausted(ILogger logger, int rounds);

    [LoggerMessage(EventId = 4104, Level = LogLevel.Warning,
        Message = "The local model ran past the time budget of {BudgetMs} ms after {OutputTokens} tokens")]
    public static partial void TimeBudgetExceeded(ILogger logger, int budgetMs, int outputTokens);

    [LoggerMessage(EventId = 4105, Level = LogLevel.Warning,
        Message = "The local model's output was not usable JSON after {OutputTokens} of {MaxOutputTokens} tokens")]
    public static partial void OutputUnusable(ILogger logger, int outputTokens, int maxOutputTokens, Exception exception);

    [LoggerMessage(EventId = 4106, Message = "llama.cpp: {Message}")]
    public static partial void Native(ILogger logger, LogLevel level, string message);
}
