using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;

namespace Assistant.Plugins.Llm;

/// <summary>
/// Applies <see cref="LlmOptions.TimeBudgetMs"/> to a remote client: past the budget the call is cancelled and throws
/// <see cref="TimeoutException"/>, so that callers fall back to their template just as they do for the local model.
/// </summary>
internal sealed class TimeBudgetChatClient(IChatClient innerClient, TimeSpan? budget) : DelegatingChatClient(innerClient)
{
    public override async Task<ChatResponse> GetResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        using var limit = new TimeBudget(budget, cancellationToken);
        try
        {
            return await base.GetResponseAsync(messages, options, limit.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (limit.Expired)
        {
            throw limit.Timeout("The LLM call");
        }
    }

    public override async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        using var limit = new TimeBudget(budget, cancellationToken);
        var updates = base.GetStreamingResponseAsync(messages, options, limit.Token).GetAsyncEnumerator(limit.Token);
        await using (updates.ConfigureAwait(false))
        {
            while (true)
            {
                try
                {
                    if (!await updates.MoveNextAsync().ConfigureAwait(false))
                    {
                        break;
                    }
                }
                catch (OperationCanceledException) when (limit.Expired)
                {
                    throw limit.Timeout("The LLM call");
                }

                yield return updates.Current;
            }
        }
    }
}
