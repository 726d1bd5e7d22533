namespace Assistant.Plugins.Llm;

/// <summary>Keys of <c>ChatResponse.AdditionalProperties</c> (and of the last streaming update) set by this project's clients.</summary>
public static class LlmResponseProperties
{
    /// <summary>
    /// <c>true</c> when a model wrote the text, <c>false</c> for the offline client's placeholder: callers that show text
    /// to people use it to say so.
    /// </summary>
    public const string Generated = "generated";

    /// <summary>How many of the oldest messages the local client left out to fit the context (an <see cref="int"/>).</summary>
    public const string DroppedMessages = "droppedMessages";

    /// <summary>How the local client wrote the prompt: the model's chat template or the plain transcript.</summary>
    public const string PromptFormat = "promptFormat";
}
