using Assistant.Plugins.Prompts;
using Ranking.Data;
using Ranking.Domain;

namespace Assistant.Plugins.Shopping;

/// <summary>
/// What a plugin bound to one shopper reads: the serving models, her events, the prompts and the clock. The user is
/// fixed at construction and never taken from the model. Shared by <see cref="BrandDiscoveryPlugin"/> and
/// <see cref="UserInterestsPlugin"/>.
/// </summary>
internal sealed class ShopperScope
{
    /// <summary>Her latest events read from the store: enough for years of an active shopper.</summary>
    public const int HistoryLimit = 2000;

    /// <exception cref="ArgumentNullException">A null argument.</exception>
    /// <exception cref="ArgumentException"><paramref name="userId"/> is empty or white space.</exception>
    public ShopperScope(IServingContext serving, IEventStore events, PromptLibrary prompts, TimeProvider time, string userId)
    {
        ArgumentNullException.ThrowIfNull(serving);
        ArgumentNullException.ThrowIfNull(events);
        ArgumentNullException.ThrowIfNull(prompts);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentException.ThrowIfNullOrWhiteSpace(userId);
        Serving = serving;
        Events = events;
        Prompts = prompts;
        Time = time;
        UserId = userId;
    }

    public IServingContext Serving { get; }

    public IEventStore Events { get; }

    public PromptLibrary Prompts { get; }

    public TimeProvider Time { get; }

    public string UserId { get; }

    /// <summary>The clock's now, Unix milliseconds.</summary>
    public long NowMs => Time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>Her newest <see cref="HistoryLimit"/> events.</summary>
    public Task<IReadOnlyList<UserEvent>> ReadEventsAsync(CancellationToken cancellationToken) =>
        Events.GetUserEventsAsync(UserId, HistoryLimit, cancellationToken);
}
