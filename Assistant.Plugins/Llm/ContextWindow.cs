namespace Assistant.Plugins.Llm;

/// <summary>A rendered prompt that fits the context, and how many of the oldest messages were left out to fit.</summary>
internal sealed record FittedPrompt(string Text, int TokenCount, int DroppedMessages);

/// <summary>
/// Fits a conversation into the model's context: the system turn and the latest message always stay; the oldest other
/// messages are dropped until the prompt plus the answer's token allowance fit.
/// </summary>
internal static class ContextWindow
{
    /// <param name="promptBudget">Tokens the prompt may take: the context size less the answer's allowance.</param>
    /// <exception cref="ArgumentException">The system turn, or the system turn with the latest message, does not fit.</exception>
    public static FittedPrompt Fit(ChatPromptFormat format, PromptTurn? system, IReadOnlyList<PromptTurn> conversation, int promptBudget)
    {
        var full = Render(format, system, conversation, 0);
        if (full.TokenCount <= promptBudget)
        {
            return full;
        }

        var systemOnly = Render(format, system, [], 0);
        if (systemOnly.TokenCount > promptBudget)
        {
            throw new ArgumentException(
                $"The system prompt alone takes {systemOnly.TokenCount} tokens, more than the {promptBudget} left for the prompt " +
                $"once the answer's allowance is reserved; raise {LlmOptions.SectionName}:ContextSize, lower MaxOutputTokens, or shorten the system prompt.");
        }

        var latestOnly = Render(format, system, conversation, conversation.Count - 1);
        if (latestOnly.TokenCount > promptBudget)
        {
            throw new ArgumentException(
                $"The latest message does not fit the context: with the system prompt it takes {latestOnly.TokenCount} tokens, " +
                $"more than the {promptBudget} left for the prompt; shorten it or raise {LlmOptions.SectionName}:ContextSize.");
        }

        // Fewer messages never make a longer prompt, so the fewest to drop can be found by bisection: O(log n) renders
        // instead of one per dropped message.
        int low = 1, high = conversation.Count - 1;
        while (low < high)
        {
            var middle = (low + high) / 2;
            if (Render(format, system, conversation, middle).TokenCount <= promptBudget)
            {
                high = middle;
            }
            else
            {
                low = middle + 1;
            }
        }

        // Do not open on a tool result whose call was dropped, nor on the assistant: start at a user's words.
        var first = low;
        while (first < conversation.Count - 1 && (conversation[first].IsToolResult || conversation[first].Role == PromptTurn.Assistant))
        {
            first++;
        }

        return Render(format, system, conversation, first);
    }

    private static FittedPrompt Render(ChatPromptFormat format, PromptTurn? system, IReadOnlyList<PromptTurn> conversation, int skip)
    {
        var turns = new List<PromptTurn>(conversation.Count - skip + 1);
        if (system is { } s)
        {
            turns.Add(s);
        }

        for (var i = skip; i < conversation.Count; i++)
        {
            turns.Add(conversation[i]);
        }

        var text = format.Render(turns);
        return new FittedPrompt(text, format.CountTokens(text), skip);
    }
}
