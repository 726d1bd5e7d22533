using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace Assistant.Plugins.Shopping;

/// <summary>One event of a chat turn's stream: text deltas, then the item cards, then done (or a single error).</summary>
public abstract record ChatEvent;

/// <summary>A piece of the answer's text, in order.</summary>
[Description("A piece of the answer's text; the pieces in order make the answer.")]
public sealed record ChatTextEvent(string Text) : ChatEvent;

/// <summary>The items the tools returned during the turn, as the catalogue describes them.</summary>
[Description("The items the assistant's tools found during the turn: ids, titles, prices and stock from the catalog.")]
public sealed record ChatCardsEvent(IReadOnlyList<ItemCard> Items) : ChatEvent;

/// <summary>The end of a turn.</summary>
/// <param name="Generated">Whether a language model wrote the text (false for the offline template and fallbacks).</param>
/// <param name="ModelVersion">The recommendation model version the tools used; null when none was loaded.</param>
/// <param name="Tools">The tools that ran, in order.</param>
[Description("The end of a turn: whether a language model wrote the text, and the model version the tools used.")]
public sealed record ChatDoneEvent(string ConversationId, bool Generated, string? ModelVersion, IReadOnlyList<string> Tools) : ChatEvent;

/// <summary>A turn that was refused or failed before any answer; nothing follows it.</summary>
[Description("A refused or failed turn; nothing follows it.")]
public sealed record ChatErrorEvent(string Code, string Message) : ChatEvent;

/// <summary>A message of a stored conversation.</summary>
/// <param name="Role"><c>user</c> or <c>assistant</c>.</param>
/// <param name="Cards">The assistant's item cards; null for user messages.</param>
[Description("A message of a stored conversation.")]
public sealed record StoredChatMessage(string Role, string Text, DateTimeOffset Timestamp, IReadOnlyList<ItemCard>? Cards = null)
{
    public const string User = "user";
    public const string Assistant = "assistant";
}

/// <summary>The <c>Chat</c> configuration section: how much the shopping chat keeps and how far the model may go.</summary>
public sealed class ChatServiceOptions
{
    public const string SectionName = "Chat";

    /// <summary>Conversations kept in memory; past it the least recently used is forgotten.</summary>
    [Range(1, 10_000_000)]
    public int MaxConversations { get; set; } = 10_000;

    /// <summary>Messages kept per conversation (user and assistant together); the oldest are dropped.</summary>
    [Range(2, 1000)]
    public int MaxMessages { get; set; } = 20;

    /// <summary>The longest user message, in characters.</summary>
    [Range(1, 100_000)]
    public int MaxMessageLength { get; set; } = 2000;

    /// <summary>The most item cards one turn returns.</summary>
    [Range(1, 100)]
    public int MaxCardsPerTurn { get; set; } = 12;

    /// <summary>Model calls per turn, tool rounds included, before the answer is cut short.</summary>
    [Range(1, 50)]
    public int MaxModelCalls { get; set; } = 4;

    /// <summary>The most recent events of the shopper the recommendation tools read.</summary>
    [Range(1, 100_000)]
    public int HistoryEvents { get; set; } = 500;

    /// <summary>
    /// Make the model's first round a tool call (the answer follows from the tool's result). For very small local models,
    /// which otherwise often answer without looking anything up; capable models choose well on their own.
    /// </summary>
    public bool RequireToolCall { get; set; }
}
