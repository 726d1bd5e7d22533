using System.ComponentModel;
using Microsoft.SemanticKernel;
using Ranking.Data;
using Ranking.Fusion;

namespace Assistant.Plugins.Shopping;

/// <summary>
/// The recommendation tools of the shopping chat, bound to one shopper when constructed: no tool takes a user id, so
/// whatever a message says, the model can reach only the signed-in shopper's own history.
/// </summary>
public sealed class RecommendationsPlugin
{
    /// <summary>The most items one call returns.</summary>
    public const int MaxCount = 10;

    public const string RecommendName = "recommend_for_me";
    public const string SimilarName = "similar_items";
    public const string GoesWithName = "goes_with";

    private readonly IServingContext _serving;
    private readonly IEventStore _events;
    private readonly string _userId;
    private readonly TurnCards? _cards;
    private readonly int _historyEvents;
    private readonly TimeProvider _time;

    /// <param name="userId">The shopper every call is for.</param>
    /// <param name="cards">Where the cards of this turn are collected; null collects nothing.</param>
    /// <param name="historyEvents">The most recent events of the shopper read per call.</param>
    /// <exception cref="ArgumentException"><paramref name="userId"/> is blank.</exception>
    public RecommendationsPlugin(
        IServingContext serving, IEventStore events, string userId, TurnCards? cards = null, int historyEvents = 500, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(serving);
        ArgumentNullException.ThrowIfNull(events);
        ArgumentException.ThrowIfNullOrWhiteSpace(userId);
        ArgumentOutOfRangeException.ThrowIfLessThan(historyEvents, 1);
        _serving = serving;
        _events = events;
        _userId = userId;
        _cards = cards;
        _historyEvents = historyEvents;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>The shopper's home feed: personal picks, or popular items for a shopper without history.</summary>
    /// <returns>No items and a note when no model version is loaded. A count outside 1..10 is clamped.</returns>
    [KernelFunction(RecommendName)]
    [Description("Recommends items for the shopper from their own history (popular items when there is none), each with the reason.")]
    public Task<ShoppingItems> RecommendForMeAsync(
        [Description("How many items to return, 1 to 10")] int count = 5, CancellationToken cancellationToken = default) =>
        RunAsync(RecommendName, null, count, cancellationToken);

    /// <summary>Items like <paramref name="itemId"/> (co-viewed, similar text, neighbours), personalised for the shopper.</summary>
    /// <returns>No items and a note for an id the catalogue does not know.</returns>
    [KernelFunction(SimilarName)]
    [Description("Finds items similar to one catalog item (alternatives to it), each with the reason.")]
    public Task<ShoppingItems> SimilarItemsAsync(
        [Description("The itemId of a catalog item, as a tool returned it")] string itemId,
        [Description("How many items to return, 1 to 10")] int count = 5,
        CancellationToken cancellationToken = default) =>
        RunAsync(SimilarName, itemId, count, cancellationToken);

    /// <summary>Items bought together with or after <paramref name="itemId"/>, from other categories.</summary>
    /// <returns>No items and a note for an id the catalogue does not know.</returns>
    [KernelFunction(GoesWithName)]
    [Description("Finds items that go with one catalog item (accessories, things bought together), each with the reason.")]
    public Task<ShoppingItems> GoesWithAsync(
        [Description("The itemId of a catalog item, as a tool returned it")] string itemId,
        [Description("How many items to return, 1 to 10")] int count = 5,
        CancellationToken cancellationToken = default) =>
        RunAsync(GoesWithName, itemId, count, cancellationToken);

    private async Task<ShoppingItems> RunAsync(string tool, string? itemId, int count, CancellationToken cancellationToken)
    {
        var result = await ComputeAsync(tool, itemId, count, cancellationToken).ConfigureAwait(false);
        _cards?.Add(tool, result.Items);
        return result;
    }

    private async Task<ShoppingItems> ComputeAsync(string tool, string? itemId, int count, CancellationToken cancellationToken)
    {
        using var lease = _serving.Acquire();
        if (lease is null)
        {
            return new ShoppingItems([], "Recommendations are not available yet: no model version is loaded.");
        }

        var catalog = lease.Catalog;
        var anchor = -1;
        if (itemId is not null && !catalog.TryGetItem(itemId.Trim(), out anchor))
        {
            return new ShoppingItems([], $"The catalog has no item with itemId '{Cut(itemId)}'; use an itemId that a tool returned.");
        }

        var events = await _events.GetUserEventsAsync(_userId, _historyEvents, cancellationToken).ConfigureAwait(false);
        var history = catalog.HistoryOf(_userId, events);
        var request = new RecommendationRequest { Count = Math.Clamp(count, 1, MaxCount), NowMs = _time.GetUtcNow().ToUnixTimeMilliseconds() };
        var recommender = lease.Recommender;
        var answer = tool switch
        {
            SimilarName => recommender.Analogs(anchor, history, request),
            GoesWithName => recommender.Complements(anchor, history, request),
            _ => recommender.Home(history, request),
        };
        var items = answer.Items.Select(i => ItemCard.Of(catalog, i.Item, i.Explanation.Text)).ToList();
        return items.Count == 0 ? new ShoppingItems([], "There is nothing to recommend here.") : new ShoppingItems(items);
    }

    private static string Cut(string text) => text.Length <= 40 ? text : text[..40] + "…";
}
