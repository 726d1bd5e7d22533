using System.ComponentModel;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using Assistant.Plugins.Shopping;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Assistant.Api.Endpoints;

[Description("A message to the shopping assistant.")]
public sealed record ChatRequest
{
    [Description("The conversation; an id not seen before starts one. At most 100 characters.")]
    public string? ConversationId { get; init; }

    [Description("The signed-in shopper; a conversation belongs to the shopper who started it. At most 100 characters.")]
    public string? UserId { get; init; }

    [Description("What the shopper wrote, at most Chat:MaxMessageLength (2000) characters.")]
    public string? Message { get; init; }
}

[Description("A stored conversation: its latest messages, oldest first.")]
public sealed record ChatHistoryView(string ConversationId, string UserId, IReadOnlyList<StoredChatMessage> Messages);

/// <summary>The shopping chat: a streamed answer per message, and the stored history of a conversation.</summary>
public static partial class ChatApi
{
    /// <summary>The longest conversation or user id.</summary>
    public const int MaxIdLength = 100;

    public const string TextEvent = "text";
    public const string CardsEvent = "cards";
    public const string DoneEvent = "done";
    public const string ErrorEvent = "error";

    public static IEndpointRouteBuilder MapChatApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/chat").WithTags("Chat");
        api.MapPost("", Send).WithName("Chat")
            .WithSummary("Sends a message and streams the answer as text/event-stream: `text` events (pieces of the answer), a `cards` event (the items the assistant's tools found, with catalog prices), then `done` (generated or not, model version); `error` for a refused or failed turn. Without a language model (Llm:Provider Offline) the answer is a catalog template marked as not generated.");
        api.MapGet("/{conversationId}", History).WithName("GetChatHistory")
            .WithSummary("The stored messages of a conversation (bounded, oldest first); 404 unless userId is the shopper who started it.");
        return app;
    }

    public sealed record Services(ChatService Chat, ILogger<ChatService> Logger);

    public static Results<ServerSentEventsResult<object>, ValidationProblem, ProblemHttpResult> Send(
        ChatRequest request, [AsParameters] Services services, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(services);
        var errors = new Dictionary<string, string[]>();
        CheckId(request.ConversationId, "conversationId", errors);
        CheckId(request.UserId, "userId", errors);
        if (string.IsNullOrWhiteSpace(request.Message))
        {
            errors["message"] = ["A message is required."];
        }
        else if (services.Chat.ValidateTurn(request.ConversationId ?? "-", request.UserId ?? "-", request.Message) is { } problem)
        {
            errors["message"] = [problem];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        if (services.Chat.BelongsToAnotherUser(request.ConversationId!, request.UserId!))
        {
            return TypedResults.Problem(
                statusCode: StatusCodes.Status409Conflict, title: "Conversation in use",
                detail: "This conversation id is in use by another user; start a new conversation.");
        }

        return TypedResults.ServerSentEvents(StreamAsync(services, request.ConversationId!, request.UserId!, request.Message!, cancellationToken));
    }

    public static Results<Ok<ChatHistoryView>, ProblemHttpResult, ValidationProblem> History(
        string conversationId, [AsParameters] Services services, string? userId = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var errors = new Dictionary<string, string[]>();
        CheckId(userId, "userId", errors);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        // An unknown conversation and another shopper's look the same, so that ids cannot be probed.
        var messages = services.Chat.GetHistory(conversationId, userId!);
        return messages is null
            ? TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Conversation not found", detail: $"No conversation '{conversationId}' of user '{userId}'.")
            : TypedResults.Ok(new ChatHistoryView(conversationId, userId!, messages));
    }

    /// <summary>
    /// The turn's events as server-sent events. A failure inside the turn (which the chat service does not expect to
    /// happen) ends the stream with an <c>error</c> event instead of a dropped connection; cancellation ends it quietly.
    /// </summary>
    private static async IAsyncEnumerable<SseItem<object>> StreamAsync(
        Services services, string conversationId, string userId, string message, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var events = services.Chat.SendAsync(conversationId, userId, message, cancellationToken).GetAsyncEnumerator(cancellationToken);
        await using (events.ConfigureAwait(false))
        {
            while (true)
            {
                ChatEvent current;
                try
                {
                    if (!await events.MoveNextAsync().ConfigureAwait(false))
                    {
                        yield break;
                    }

                    current = events.Current;
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    yield break;
                }
#pragma warning disable CA1031 // the response has started: the client gets an error event, not a cut connection
                catch (Exception e)
#pragma warning restore CA1031
                {
                    LogTurnFailed(services.Logger, e, conversationId);
                    current = new ChatErrorEvent("internal", "The assistant failed while answering; please try again.");
                }

                yield return Item(current);
                if (current is ChatErrorEvent)
                {
                    yield break;
                }
            }
        }
    }

    private static SseItem<object> Item(ChatEvent e) => e switch
    {
        ChatTextEvent text => new SseItem<object>(text, TextEvent),
        ChatCardsEvent cards => new SseItem<object>(cards, CardsEvent),
        ChatDoneEvent done => new SseItem<object>(done, DoneEvent),
        ChatErrorEvent error => new SseItem<object>(error, ErrorEvent),
        _ => throw new InvalidOperationException($"Unknown chat event {e.GetType().Name}."),
    };

    private static void CheckId(string? id, string name, Dictionary<string, string[]> errors)
    {
        if (string.IsNullOrWhiteSpace(id))
        {
            errors[name] = [$"{name} is required."];
        }
        else if (id.Length > MaxIdLength)
        {
            errors[name] = [$"{name} is longer than {MaxIdLength} characters."];
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Chat {Conversation}: the turn failed; the client got an error event")]
    private static partial void LogTurnFailed(ILogger logger, Exception exception, string conversation);
}
