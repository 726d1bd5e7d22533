namespace Assistant.Plugins.Llm;

/// <summary>
/// The model wrote something the request cannot use: JSON cut off by the token allowance, or a reply of the wrong
/// shape. Callers fall back to their template on it, as on a <see cref="TimeoutException"/>.
/// </summary>
public sealed class LlmOutputException : Exception
{
    public LlmOutputException()
    {
    }

    public LlmOutputException(string message)
        : base(message)
    {
    }

    public LlmOutputException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public LlmOutputException(string message, string output, Exception? innerException = null)
        : base(message, innerException)
    {
        Output = output;
    }

    /// <summary>What the model wrote, for the log.</summary>
    public string? Output { get; }
}
