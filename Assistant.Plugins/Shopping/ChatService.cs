using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.RegularExpressions;
using Assistant.Plugins.Llm;
using Assistant.Plugins.Prompts;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.ChatCompletion;
using Ranking.Data;

namespace Assistant.Plugins.Shopping;

/// <summary>
/// The shopping chat: conversations kept by id (bounded, least recently used forgotten first), one shopper per
/// conversation, and per turn a Semantic Kernel <see cref="Kernel"/> whose tools (<see cref="CatalogSearchPlugin"/>,
/// <see cref="RecommendationsPlugin"/>) are bound to that shopper. The answer streams as <see cref="ChatEvent"/>s: text,
/// then the item cards the tools returned, then done.
/// </summary>
/// <remarks>
/// <para>The system prompt is <c>prompts/shopping-chat.txt</c>; each user message is wrapped by
/// <c>prompts/shopping-chat-user.txt</c> between delimiters that the message cannot contain.</para>
/// <para>Without a language model (<see cref="OfflineChatClient"/>) the turn is a template answer from the same tools,
/// marked as not generated. A model that fails or returns nothing before any text falls back to that template too; a
/// turn without a loaded model version says so. None of these reach the caller as exceptions; only cancellation does.</para>
/// <para>Turns of one conversation run one at a time; turns of different conversations run in parallel.</para>
/// </remarks>
public sealed partial class ChatService
{
    public const string SystemPromptName = "shopping-chat";
    public const string UserPromptName = "shopping-chat-user";
    public const string CatalogPluginName = "Catalog";
    public const string ShopperPluginName = "Shopper";

    /// <summary>Error codes of <see cref="ChatErrorEvent"/>.</summary>
    public static class Errors
    {
        public const string ConversationOfAnotherUser = "conversation-of-another-user";
        public const string InvalidRequest = "invalid-request";
    }

    private const string MessageVariable = "{{$message}}";
    private const string NotGeneratedMarker = "[not generated] ";

    private readonly IChatClient _client;
    private readonly IChatCompletionService _completion;
    private readonly IServingContext _serving;
    private readonly IEventStore _events;
    private readonly PromptLibrary _prompts;
    private readonly ChatServiceOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly bool _offline;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, LinkedListNode<Conversation>> _conversations = new(StringComparer.Ordinal);
    private readonly LinkedList<Conversation> _recent = new();

    /// <param name="client">The language model; an <see cref="OfflineChatClient"/> (or a pipeline around one) means template answers.</param>
    /// <param name="serving">The loaded model version the tools search and recommend from.</param>
    /// <param name="events">The shoppers' events, for personal recommendations.</param>
    /// <param name="prompts">Where <see cref="SystemPromptName"/> and <see cref="UserPromptName"/> are.</param>
    public ChatService(
        IChatClient client, IServingContext serving, IEventStore events, PromptLibrary prompts, ChatServiceOptions? options = null,
        ILoggerFactory? loggerFactory = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(serving);
        ArgumentNullException.ThrowIfNull(events);
        ArgumentNullException.ThrowIfNull(prompts);
        _client = client;
        _serving = serving;
        _events = events;
        _prompts = prompts;
        _options = options ?? new ChatServiceOptions();
        _time = time ?? TimeProvider.System;
        _logger = loggerFactory?.CreateLogger<ChatService>() ?? NullLogger<ChatService>.Instance;
        _offline = OfflineChatClient.IsOffline(client);

        // Without the invoking client, Semantic Kernel hands the tools to the model but never runs the calls it returns
        // (shared/STACK.md section 4). The wrapper is built once: it holds no per-request state. It is never disposed,
        // since disposing it would dispose the shared model client.
        var invoking = new ChatClientBuilder(client).UseKernelFunctionInvocation(loggerFactory).Build();
        if (invoking.GetService<FunctionInvokingChatClient>() is { } loop)
        {
            loop.MaximumIterationsPerRequest = _options.MaxModelCalls;
        }

        _completion = invoking.AsChatCompletionService();
    }

    /// <summary>Whether answers are templates (no language model is configured).</summary>
    public bool IsOffline => _offline;

    /// <summary>Conversations held now (at most <see cref="ChatServiceOptions.MaxConversations"/>).</summary>
    public int ConversationCount
    {
        get
        {
            lock (_lock)
            {
                return _conversations.Count;
            }
        }
    }

    /// <summary>Whether <paramref name="conversationId"/> is held for a shopper other than <paramref name="userId"/> (a turn would be refused).</summary>
    public bool BelongsToAnotherUser(string conversationId, string userId)
    {
        lock (_lock)
        {
            return _conversations.TryGetValue(conversationId, out var node) && !string.Equals(node.Value.UserId, userId, StringComparison.Ordinal);
        }
    }

    /// <summary>
    /// The stored messages of a conversation, oldest first (at most <see cref="ChatServiceOptions.MaxMessages"/>); null
    /// when there is no such conversation or it belongs to another shopper, so that the two cannot be told apart.
    /// </summary>
    public IReadOnlyList<StoredChatMessage>? GetHistory(string conversationId, string userId)
    {
        Conversation? conversation;
        lock (_lock)
        {
            conversation = _conversations.TryGetValue(conversationId, out var node) ? node.Value : null;
        }

        return conversation is not null && string.Equals(conversation.UserId, userId, StringComparison.Ordinal) ? conversation.Snapshot() : null;
    }

    /// <summary>
    /// One turn: the shopper's message in, the answer out as text events, then a cards event when the tools returned
    /// items, then a done event. A conversation held for another shopper, a blank id or a blank or too long message gives
    /// one <see cref="ChatErrorEvent"/> and nothing else, and stores nothing.
    /// </summary>
    /// <exception cref="OperationCanceledException">The caller cancelled; the turn is not stored.</exception>
    public async IAsyncEnumerable<ChatEvent> SendAsync(
        string conversationId, string userId, string message, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        if (ValidateTurn(conversationId, userId, message) is { } problem)
        {
            yield return new ChatErrorEvent(Errors.InvalidRequest, problem);
            yield break;
        }

        var conversation = Claim(conversationId, userId);
        if (conversation is null)
        {
            yield return new ChatErrorEvent(Errors.ConversationOfAnotherUser, "This conversation id is in use by another user; start a new conversation.");
            yield break;
        }

        await conversation.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var asked = _time.GetUtcNow();
            var answer = new StringBuilder();
            using var lease = _serving.Acquire();
            if (lease is null)
            {
                const string Unavailable = NotGeneratedMarker + "The catalog is not available yet (no recommendation model version is loaded), so I cannot look up items right now. Please try again in a moment.";
                yield return new ChatTextEvent(Unavailable);
                conversation.Append(_options.MaxMessages, new(StoredChatMessage.User, message, asked), new(StoredChatMessage.Assistant, Unavailable, _time.GetUtcNow(), []));
                yield return new ChatDoneEvent(conversationId, Generated: false, ModelVersion: null, Tools: []);
                yield break;
            }

            // Every tool call of the turn sees the same version, the one the done event names.
            var pinned = new PinnedServingContext(lease);
            var cards = new TurnCards(_options.MaxCardsPerTurn);
            var catalog = new CatalogSearchPlugin(pinned, cards);
            var shopper = new RecommendationsPlugin(pinned, _events, userId, cards, _options.HistoryEvents, _time);
            var generated = false;
            if (_offline)
            {
                var text = await TemplateAnswerAsync(
                    OfflineChatClient.Marker + "No language model is configured, so this answer was put together from the catalog tools, not written by a model.",
                    message, catalog, shopper, cancellationToken).ConfigureAwait(false);
                answer.Append(text);
                yield return new ChatTextEvent(text);
            }
            else
            {
                var history = await BuildHistoryAsync(conversation.Snapshot(), message, cancellationToken).ConfigureAwait(false);
                var kernel = BuildKernel(catalog, shopper, pinned, userId);
                var settings = new PromptExecutionSettings
                {
                    FunctionChoiceBehavior = _options.RequireToolCall ? FunctionChoiceBehavior.Required() : FunctionChoiceBehavior.Auto(),
                };
                Exception? failure = null;
                var updates = _completion.GetStreamingChatMessageContentsAsync(history, settings, kernel, cancellationToken).GetAsyncEnumerator(cancellationToken);
                await using (updates.ConfigureAwait(false))
                {
                    while (true)
                    {
                        string? piece;
                        try
                        {
                            if (!await updates.MoveNextAsync().ConfigureAwait(false))
                            {
                                break;
                            }

                            var update = updates.Current;
                            piece = update.Role is null || update.Role == AuthorRole.Assistant ? update.Content : null;
                        }
                        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                        {
                            throw;
                        }
#pragma warning disable CA1031 // a failing model (timeout, unusable output, unreachable server) becomes a clear answer, never an exception
                        catch (Exception e)
#pragma warning restore CA1031
                        {
                            failure = e;
                            break;
                        }

                        if (!string.IsNullOrEmpty(piece))
                        {
                            answer.Append(piece);
                            yield return new ChatTextEvent(piece);
                        }
                    }
                }

                if (failure is not null && answer.Length > 0)
                {
                    LogModelCutOff(_logger, conversationId, failure);
                    const string CutOff = "\n\n[The answer was cut off: the language model stopped with an error.]";
                    answer.Append(CutOff);
                    yield return new ChatTextEvent(CutOff);
                    generated = true;
                }
                else if (failure is not null || string.IsNullOrWhiteSpace(answer.ToString()))
                {
                    var reason = failure is null ? "returned no text" : failure is TimeoutException ? "did not answer in time" : "failed";
                    if (failure is not null)
                    {
                        LogModelFailed(_logger, conversationId, failure);
                    }
                    else
                    {
                        LogModelSilent(_logger, conversationId);
                    }

                    var text = await TemplateAnswerAsync(
                        NotGeneratedMarker + $"The language model {reason}, so this answer was put together from the catalog tools, not written by a model.",
                        message, catalog, shopper, cancellationToken).ConfigureAwait(false);
                    answer.Clear().Append(text);
                    yield return new ChatTextEvent(text);
                }
                else
                {
                    generated = true;
                }
            }

            var found = cards.Cards;
            if (found.Count > 0)
            {
                yield return new ChatCardsEvent(found);
            }

            conversation.Append(
                _options.MaxMessages,
                new StoredChatMessage(StoredChatMessage.User, message, asked),
                new StoredChatMessage(StoredChatMessage.Assistant, answer.ToString(), _time.GetUtcNow(), found));
            yield return new ChatDoneEvent(conversationId, generated, lease.Version, cards.Tools);
        }
        finally
        {
            conversation.Gate.Release();
        }
    }

    /// <summary>What is wrong with a turn's input, or null.</summary>
    public string? ValidateTurn(string? conversationId, string? userId, string? message)
    {
        if (string.IsNullOrWhiteSpace(conversationId) || string.IsNullOrWhiteSpace(userId))
        {
            return "conversationId and userId are required.";
        }

        if (string.IsNullOrWhiteSpace(message))
        {
            return "The message is empty.";
        }

        return message.Length > _options.MaxMessageLength ? $"The message is longer than {_options.MaxMessageLength} characters." : null;
    }

    private Kernel BuildKernel(CatalogSearchPlugin catalog, RecommendationsPlugin shopper, IServingContext pinned, string userId)
    {
        var builder = Kernel.CreateBuilder();
        builder.Services.AddSingleton(_completion);
        builder.Plugins.AddFromObject(catalog, CatalogPluginName);
        builder.Plugins.AddFromObject(shopper, ShopperPluginName);
        // Her interests and brands new to her, bound to the caller like the recommendations (no user parameter).
        builder.Plugins.AddFromObject(new UserInterestsPlugin(_client, pinned, _events, _prompts, _time, userId), "Interests");
        builder.Plugins.AddFromObject(new BrandDiscoveryPlugin(_client, pinned, _events, _prompts, _time, userId), "Brands");
        return builder.Build();
    }

    /// <summary>The system prompt, the stored turns and the new message, each user message between its delimiters.</summary>
    private async Task<ChatHistory> BuildHistoryAsync(IReadOnlyList<StoredChatMessage> stored, string message, CancellationToken cancellationToken)
    {
        var system = await _prompts.GetAsync(SystemPromptName, cancellationToken).ConfigureAwait(false);
        var template = (await _prompts.GetAsync(UserPromptName, cancellationToken).ConfigureAwait(false)).TrimEnd();
        if (!template.Contains(MessageVariable, StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"The prompt '{UserPromptName}' must contain {MessageVariable}.");
        }

        var history = new ChatHistory(system.Trim());
        foreach (var turn in stored)
        {
            if (turn.Role == StoredChatMessage.User)
            {
                history.AddUserMessage(Wrap(template, turn.Text));
            }
            else
            {
                history.AddAssistantMessage(turn.Text);
            }
        }

        history.AddUserMessage(Wrap(template, message));
        return history;
    }

    /// <summary>The message in the template, with every delimiter-like run broken up so that it cannot close its block.</summary>
    internal static string Wrap(string template, string message) =>
        template.Replace(MessageVariable, message.Replace("<<<", "< < <", StringComparison.Ordinal).Replace(">>>", "> > >", StringComparison.Ordinal), StringComparison.Ordinal);

    /// <summary>
    /// The answer without a model: the catalogue search on the message and, when it asks for them, the shopper's
    /// recommendations, listed with their catalogue prices. A tool that fails is reported in the text.
    /// </summary>
    private async Task<string> TemplateAnswerAsync(
        string lead, string message, CatalogSearchPlugin catalog, RecommendationsPlugin shopper, CancellationToken cancellationToken)
    {
        var text = new StringBuilder(lead);
        try
        {
            var found = catalog.SearchCatalog(message, count: 5, cancellationToken: cancellationToken);
            List("Catalog matches for your message:", found, text);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
#pragma warning disable CA1031 // a failing tool is reported in the answer
        catch (Exception e)
#pragma warning restore CA1031
        {
            LogToolFailed(_logger, CatalogSearchPlugin.SearchName, e);
            text.Append("\n\nThe catalog search failed, so there are no matches to show.");
        }

        if (AsksForRecommendations().IsMatch(message))
        {
            try
            {
                var picks = await shopper.RecommendForMeAsync(5, cancellationToken).ConfigureAwait(false);
                List("Recommended for you:", picks, text);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
#pragma warning disable CA1031 // a failing tool is reported in the answer
            catch (Exception e)
#pragma warning restore CA1031
            {
                LogToolFailed(_logger, RecommendationsPlugin.RecommendName, e);
                text.Append("\n\nThe recommendations failed, so there are none to show.");
            }
        }

        return text.ToString();
    }

    private static void List(string heading, ShoppingItems result, StringBuilder text)
    {
        text.Append("\n\n").Append(heading);
        if (result.Items.Count == 0)
        {
            text.Append(' ').Append(result.Note ?? "none.");
            return;
        }

        foreach (var card in result.Items)
        {
            text.Append("\n- ").Append(card.Title);
            if (card.Brand is not null)
            {
                text.Append(" (").Append(card.Brand).Append(')');
            }

            text.Append(CultureInfo.InvariantCulture, $" — {(card.Price is { } p ? p.ToString("0.00", CultureInfo.InvariantCulture) : "price unknown")}");
            if (!card.InStock)
            {
                text.Append(", out of stock");
            }

            if (!string.IsNullOrWhiteSpace(card.Reason))
            {
                text.Append(": ").Append(card.Reason);
            }
        }
    }

    /// <summary>The conversation, claimed for <paramref name="userId"/> when new and made the most recent; null when it is another shopper's.</summary>
    private Conversation? Claim(string conversationId, string userId)
    {
        lock (_lock)
        {
            if (_conversations.TryGetValue(conversationId, out var node))
            {
                if (!string.Equals(node.Value.UserId, userId, StringComparison.Ordinal))
                {
                    return null;
                }

                _recent.Remove(node);
                _recent.AddFirst(node);
                return node.Value;
            }

            node = _recent.AddFirst(new Conversation(conversationId, userId));
            _conversations[conversationId] = node;
            while (_conversations.Count > _options.MaxConversations && _recent.Last is { } oldest)
            {
                // A running turn of a forgotten conversation still finishes; its messages are just not kept.
                _recent.RemoveLast();
                _conversations.Remove(oldest.Value.Id);
            }

            return node.Value;
        }
    }

    [GeneratedRegex(@"\b(recommend|suggest|for me\b|ideas?\b|what should i)", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex AsksForRecommendations();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Chat {Conversation}: the language model failed before answering; answered from the catalog tools instead")]
    private static partial void LogModelFailed(ILogger logger, string conversation, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Chat {Conversation}: the language model failed mid-answer; the answer was cut off")]
    private static partial void LogModelCutOff(ILogger logger, string conversation, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Chat {Conversation}: the language model returned no text; answered from the catalog tools instead")]
    private static partial void LogModelSilent(ILogger logger, string conversation);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Chat tool {Tool} failed in the template answer")]
    private static partial void LogToolFailed(ILogger logger, string tool, Exception exception);

    private sealed class Conversation(string id, string userId)
    {
        private readonly List<StoredChatMessage> _messages = [];

        public string Id { get; } = id;

        public string UserId { get; } = userId;

        /// <summary>One turn at a time: a turn reads the history and appends to it.</summary>
        public SemaphoreSlim Gate { get; } = new(1, 1);

        public IReadOnlyList<StoredChatMessage> Snapshot()
        {
            lock (_messages)
            {
                return [.. _messages];
            }
        }

        public void Append(int maxMessages, StoredChatMessage question, StoredChatMessage answer)
        {
            lock (_messages)
            {
                _messages.Add(question);
                _messages.Add(answer);
                if (_messages.Count > maxMessages)
                {
                    _messages.RemoveRange(0, _messages.Count - maxMessages);
                }
            }
        }

    }

    /// <summary>Hands out the turn's lease to every tool call; the turn releases it.</summary>
    private sealed class PinnedServingContext(ServingLease lease) : IServingContext
    {
        public ServingLease? Acquire() => new(lease.Recommender, lease.Search, lease.Version, NoRelease.Instance);
    }

    private sealed class NoRelease : IDisposable
    {
        public static readonly NoRelease Instance = new();

        public void Dispose()
        {
        }
    }
}
