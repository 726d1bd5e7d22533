using Ranking.Domain;

namespace Ranking.Data;

/// <summary>What a batch write did. Duplicates are records whose key was already stored (or repeated in the batch).</summary>
/// <param name="UnknownItems">Stored events that name an item the catalog does not have (stored all the same).</param>
public readonly record struct IngestResult(int Received, int Stored, int Duplicates, int UnknownItems = 0)
{
    public static IngestResult operator +(IngestResult a, IngestResult b) =>
        new(a.Received + b.Received, a.Stored + b.Stored, a.Duplicates + b.Duplicates, a.UnknownItems + b.UnknownItems);
}

/// <summary>Items. Writing an item that exists replaces it.</summary>
public interface ICatalogStore
{
    /// <summary>Inserts or replaces the items, all in one transaction. Returns how many were written.</summary>
    Task<int> UpsertItemsAsync(IReadOnlyList<Item> items, CancellationToken cancellationToken = default);

    /// <summary>The item, or null when the catalog has no such id.</summary>
    Task<Item?> GetItemAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>A page of items in id order, optionally only those under a category path prefix.</summary>
    Task<IReadOnlyList<Item>> ListItemsAsync(string? categoryPrefix, int offset, int limit, CancellationToken cancellationToken = default);

    /// <summary>Every item, in id order.</summary>
    IAsyncEnumerable<Item> ReadItemsAsync(CancellationToken cancellationToken = default);

    Task<long> CountItemsAsync(CancellationToken cancellationToken = default);
}

/// <summary>Users. Writing a user that exists replaces it.</summary>
public interface IUserStore
{
    Task<int> UpsertUsersAsync(IReadOnlyList<User> users, CancellationToken cancellationToken = default);

    Task<User?> GetUserAsync(string id, CancellationToken cancellationToken = default);

    IAsyncEnumerable<User> ReadUsersAsync(CancellationToken cancellationToken = default);

    Task<long> CountUsersAsync(CancellationToken cancellationToken = default);
}

/// <summary>The event log: append-only and idempotent by event id.</summary>
public interface IEventStore
{
    /// <summary>
    /// Stores the events whose ids are new, in batch order, in one transaction; an id already stored (or seen
    /// earlier in the same batch) is counted as a duplicate and not written again.
    /// </summary>
    Task<IngestResult> AppendEventsAsync(IReadOnlyList<UserEvent> events, CancellationToken cancellationToken = default);

    /// <summary>Every event in the order it was first stored (which keeps the file order of ties in time).</summary>
    IAsyncEnumerable<UserEvent> ReadEventsAsync(CancellationToken cancellationToken = default);

    /// <summary>The user's latest <paramref name="limit"/> events, oldest first; empty for an unknown user.</summary>
    Task<IReadOnlyList<UserEvent>> GetUserEventsAsync(string userId, int limit, CancellationToken cancellationToken = default);

    Task<long> CountEventsAsync(CancellationToken cancellationToken = default);
}

/// <summary>CRM campaigns, sends (idempotent by send id) and outcomes (one per send and type).</summary>
public interface ICrmStore
{
    Task UpsertCampaignAsync(CrmCampaign campaign, CancellationToken cancellationToken = default);

    Task<CrmCampaign?> GetCampaignAsync(string id, CancellationToken cancellationToken = default);

    Task<IngestResult> AppendSendsAsync(IReadOnlyList<CrmSend> sends, CancellationToken cancellationToken = default);

    Task<IngestResult> AppendOutcomesAsync(IReadOnlyList<CrmOutcome> outcomes, CancellationToken cancellationToken = default);

    /// <summary>The sends of one campaign (or of all campaigns when null), in storage order.</summary>
    IAsyncEnumerable<CrmSend> ReadSendsAsync(string? campaignId, CancellationToken cancellationToken = default);

    IAsyncEnumerable<CrmOutcome> ReadOutcomesAsync(string? campaignId, CancellationToken cancellationToken = default);

    Task<long> CountSendsAsync(CancellationToken cancellationToken = default);

    Task<long> CountOutcomesAsync(CancellationToken cancellationToken = default);

    /// <summary>Stores a campaign plan, replacing an earlier plan of the same campaign.</summary>
    Task SavePlanAsync(CrmPlanDocument plan, CancellationToken cancellationToken = default);

    /// <summary>The stored plan of a campaign; null when it has none (an imported campaign, say).</summary>
    Task<CrmPlanDocument?> GetPlanAsync(string campaignId, CancellationToken cancellationToken = default);
}

/// <summary>Experiments and exposures (the first exposure of a user to an experiment is kept).</summary>
public interface IExperimentStore
{
    Task UpsertExperimentAsync(Experiment experiment, CancellationToken cancellationToken = default);

    Task<Experiment?> GetExperimentAsync(string name, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<Experiment>> ListExperimentsAsync(CancellationToken cancellationToken = default);

    Task<IngestResult> RecordExposuresAsync(IReadOnlyList<Exposure> exposures, CancellationToken cancellationToken = default);

    IAsyncEnumerable<Exposure> ReadExposuresAsync(string experiment, CancellationToken cancellationToken = default);
}

/// <summary>One store holding everything: the SQLite file or the PostgreSQL database.</summary>
public interface IMarketplaceStore : ICatalogStore, IUserStore, IEventStore, ICrmStore, IExperimentStore
{
    /// <summary>"sqlite" or "postgresql".</summary>
    string Kind { get; }

    /// <summary>Creates the schema or applies the migrations it lacks. Safe to call on every start.</summary>
    Task InitializeAsync(CancellationToken cancellationToken = default);
}
