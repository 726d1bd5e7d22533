using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using Ranking.Domain;
using Ranking.Import;

namespace Ranking.Demo;

/// <summary>
/// The demo marketplace: a generated world of items, users, event history, a past CRM campaign and an A/B
/// experiment, which the service runs on by default. The host seeds a store with it through <see cref="Importer"/>.
/// </summary>
/// <remarks>
/// <para><b>Catalog.</b> <see cref="CategoryTree.Default"/> (9 top-level categories, 92 leaves, each with a price range,
/// a typical margin, a <see cref="SeasonProfile"/> and its complements) and <see cref="DemoBrands.All"/> (invented
/// brands, premium, mass and new to the market). Items are <c>item-000123</c>; about 3 % have no known cost and 5 %
/// are out of stock. Items of new-to-market brands were created in the last 60 days.</para>
/// <para><b>Users</b> (<c>user-00042</c>) have 1-3 lifelong hobbies (a top-level category or a group), an activity
/// level, a price sensitivity and a search habit (<see cref="DemoUserProfile"/>, exposed as <see cref="Profiles"/>);
/// e-mail consent 70 %, push 40 %, SMS 15 %. About one user in five churns.</para>
/// <para><b>Sessions.</b> Each day a user starts a session with probability activity x (hobbies weighted by their
/// season + exploration), so a winter-sports fan comes back every winter and is quiet in summer. A session picks a
/// leaf (a hobby's leaf by season, or anywhere with the user's exploration share), may start with a text search
/// (type <c>search</c>, query from the leaf noun, a brand or a colour) whose results she then views, and continues
/// through analogs, complements, new searches and the home feed. An item is only seen once it exists.</para>
/// <para><b>Funnel.</b> Ordinary sessions: cart 9.2 % of views (times a price factor: bargain hunters cart
/// expensive items less), order 38 % of carts, share 1.5 % of views. With the sessions below, about 10 % of all
/// views are carted and about 41 % of carts ordered (docs/DEMO.md has the measured numbers).</para>
/// <para><b>Complements.</b> After an order, each complement leaf of the item's leaf (boots, bindings, helmet and
/// goggles after a snowboard) is visited in a later session with probability 0.55 (the first) or 0.35 (the others),
/// 1 + Exp(8) days later (at most 55), on surface <c>complements</c> with the anchor as context item, where 35 % of
/// views are carted and 60 % of carts ordered. Consumables are bought again after their
/// <see cref="CategoryLeaf.ReplenishDays"/> (60 % of orders); 8 % of orders are rated 5-25 days later.</para>
/// <para><b>CRM.</b> One past e-mail campaign (<see cref="Campaign"/>) with a random 50/50 holdout; its true,
/// heterogeneous effect is <see cref="DemoCampaignRule"/>; induced visits are sessions on surface <c>crm</c>.</para>
/// <para><b>Experiment.</b> <c>home-ranker-v2</c> (control / v2, 50/50 by FNV-1a hash of "salt:userId") started 28
/// days before the end; a user's first home-feed session from then on is her exposure, and v2 carts 10 % more often
/// on the home feed.</para>
/// <para><b>Determinism.</b> Everything comes from <see cref="System.Random"/> seeded from
/// <see cref="DemoMarketplaceOptions.Seed"/> (one stream for items, one for users, one per user for events). The
/// seeded <see cref="System.Random"/> algorithm is .NET's and is stable for a given seed across runs on the same
/// runtime, so the same options give the same records, in the same order, on every call of
/// <see cref="ReadAsync"/>. Event ids are <c>ev-1</c>, <c>ev-2</c>... in emission order; every user's events are
/// emitted together and in time order. An instance is immutable once built: several enumerations may run at once.</para>
/// </remarks>
public sealed class DemoMarketplace : IImportSource
{
    private readonly DemoWorld _world;

    /// <param name="options">Size and seed; null for the defaults.</param>
    /// <exception cref="ArgumentException">An option is out of range (see <see cref="DemoMarketplaceOptions.Validate"/>).</exception>
    public DemoMarketplace(DemoMarketplaceOptions? options = null)
    {
        Options = options ?? new DemoMarketplaceOptions();
        Options.Validate();
        _world = new DemoWorld(Options);
    }

    public string Name => "demo";

    public DemoMarketplaceOptions Options { get; }

    public CategoryTree Tree => _world.Tree;

    public IReadOnlyList<DemoBrand> Brands => _world.Brands;

    /// <summary>The catalog, in id order.</summary>
    public IReadOnlyList<Item> Items => _world.Items;

    /// <summary>The users, in id order.</summary>
    public IReadOnlyList<User> Users => _world.Users;

    /// <summary>The hidden truth behind each user, aligned with <see cref="Users"/>.</summary>
    public IReadOnlyList<DemoUserProfile> Profiles => _world.Profiles;

    /// <summary>The past CRM campaign (a "winter gear" e-mail, early December).</summary>
    public CrmCampaign Campaign => _world.Campaign;

    /// <summary>The running A/B experiment <c>home-ranker-v2</c>.</summary>
    public Experiment Experiment => _world.Experiment;

    /// <summary>The brand of an item of <see cref="Items"/>, by index.</summary>
    public DemoBrand BrandOf(int itemIndex) => _world.Brands[_world.ItemBrand[itemIndex]];

    public async IAsyncEnumerable<ImportChunk> ReadAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        foreach (var chunk in ReadChunks(cancellationToken))
        {
            yield return chunk;
            await Task.Yield();
        }
    }

    /// <summary>
    /// The whole world as chunks of about <see cref="DemoMarketplaceOptions.ChunkSize"/> records: the campaign and the
    /// experiment, then items, users, events (user by user, each in time order), sends, outcomes and exposures.
    /// Events are generated a user at a time while the chunks are consumed, so memory stays flat.
    /// </summary>
    public IEnumerable<ImportChunk> ReadChunks(CancellationToken cancellationToken = default)
    {
        var size = Options.ChunkSize;
        var chunk = new ImportChunk();
        var inChunk = 2;
        chunk.Campaigns.Add(_world.Campaign);
        chunk.Experiments.Add(_world.Experiment);

        for (var i = 0; i < _world.Items.Length; i++)
        {
            chunk.Items.Add(new Row<Item>(i + 1, _world.Items[i]));
            if (++inChunk >= size)
            {
                yield return chunk;
                (chunk, inChunk) = (new ImportChunk(), 0);
            }
        }

        for (var u = 0; u < _world.Users.Length; u++)
        {
            chunk.Users.Add(new Row<User>(u + 1, _world.Users[u]));
            if (++inChunk >= size)
            {
                yield return chunk;
                (chunk, inChunk) = (new ImportChunk(), 0);
            }
        }

        var simulator = new UserSimulator(_world);
        var sends = new List<CrmSend>();
        var outcomes = new List<CrmOutcome>();
        var exposures = new List<Exposure>();
        long eventNo = 0;
        for (var u = 0; u < _world.Users.Length; u++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            simulator.Run(u);
            var userId = _world.Users[u].Id;
            var sessionNo = -1;
            string? sessionId = null;
            foreach (var e in simulator.Events)
            {
                if (e.Session != sessionNo)
                {
                    sessionNo = e.Session;
                    sessionId = string.Create(CultureInfo.InvariantCulture, $"s-{u}-{sessionNo}");
                }

                eventNo++;
                chunk.Events.Add(new Row<UserEvent>(eventNo, ToEvent(e, eventNo, userId, sessionId)));
                if (++inChunk >= size)
                {
                    yield return chunk;
                    (chunk, inChunk) = (new ImportChunk(), 0);

                    // Sized once: growing the list by doubling re-allocates large-object-heap arrays every chunk.
                    chunk.Events.Capacity = size;
                }
            }

            if (simulator.Send is { } send)
            {
                sends.Add(send);
            }

            outcomes.AddRange(simulator.Outcomes);
            if (simulator.Exposure is { } exposure)
            {
                exposures.Add(exposure);
            }
        }

        for (var i = 0; i < sends.Count; i++)
        {
            chunk.Sends.Add(new Row<CrmSend>(i + 1, sends[i]));
            if (++inChunk >= size)
            {
                yield return chunk;
                (chunk, inChunk) = (new ImportChunk(), 0);
            }
        }

        for (var i = 0; i < outcomes.Count; i++)
        {
            chunk.Outcomes.Add(new Row<CrmOutcome>(i + 1, outcomes[i]));
            if (++inChunk >= size)
            {
                yield return chunk;
                (chunk, inChunk) = (new ImportChunk(), 0);
            }
        }

        for (var i = 0; i < exposures.Count; i++)
        {
            chunk.Exposures.Add(new Row<Exposure>(i + 1, exposures[i]));
            if (++inChunk >= size)
            {
                yield return chunk;
                (chunk, inChunk) = (new ImportChunk(), 0);
            }
        }

        if (inChunk > 0)
        {
            yield return chunk;
        }
    }

    /// <summary>Generates the whole world once and counts it (records by kind, events by type, time taken).</summary>
    public DemoSummary Describe(CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        var byType = new Dictionary<string, long>(StringComparer.Ordinal);
        var outcomesByType = new SortedDictionary<string, long>(StringComparer.Ordinal);
        long events = 0, sends = 0, treatment = 0, outcomes = 0, exposures = 0;
        foreach (var chunk in ReadChunks(cancellationToken))
        {
            foreach (var row in chunk.Events)
            {
                byType[row.Value.Type] = byType.GetValueOrDefault(row.Value.Type) + 1;
            }

            foreach (var row in chunk.Sends)
            {
                treatment += row.Value.IsTreatment ? 1 : 0;
            }

            foreach (var row in chunk.Outcomes)
            {
                outcomesByType[row.Value.Type] = outcomesByType.GetValueOrDefault(row.Value.Type) + 1;
            }

            events += chunk.Events.Count;
            sends += chunk.Sends.Count;
            outcomes += chunk.Outcomes.Count;
            exposures += chunk.Exposures.Count;
        }

        return new DemoSummary
        {
            Items = _world.Items.Length,
            Users = _world.Users.Length,
            Events = events,
            EventsByType = new SortedDictionary<string, long>(byType, StringComparer.Ordinal),
            Sends = sends,
            TreatmentSends = treatment,
            Outcomes = outcomes,
            OutcomesByType = outcomesByType,
            Exposures = exposures,
            Elapsed = clock.Elapsed,
        };
    }

    private UserEvent ToEvent(in SimEvent e, long eventNo, string userId, string? sessionId)
    {
        var priced = e.Type is UserSimulator.TypeCart or UserSimulator.TypeOrder;
        return new UserEvent
        {
            EventId = string.Create(CultureInfo.InvariantCulture, $"ev-{eventNo}"),
            UserId = userId,
            ItemId = e.Item >= 0 ? _world.Items[e.Item].Id : null,
            Type = UserSimulator.TypeNames[e.Type],
            Timestamp = DateTimeOffset.FromUnixTimeMilliseconds(e.Ms),
            Surface = UserSimulator.SurfaceNames[e.Surface],
            Query = e.Query >= 0 ? _world.QueryTexts[e.Query] : null,
            ContextItemId = e.Context >= 0 ? _world.Items[e.Context].Id : null,
            Price = priced ? _world.ItemPrice[e.Item] : null,
            Quantity = priced ? e.Quantity : null,
            SessionId = sessionId,
            Value = e.Type == UserSimulator.TypeRating ? e.Stars : null,
        };
    }
}

/// <summary>What a demo marketplace contains, as counted by <see cref="DemoMarketplace.Describe"/>.</summary>
public sealed record DemoSummary
{
    public required int Items { get; init; }

    public required int Users { get; init; }

    public required long Events { get; init; }

    /// <summary>Event count per type (view, cart, order, share, search, rating).</summary>
    public required IReadOnlyDictionary<string, long> EventsByType { get; init; }

    public required long Sends { get; init; }

    public required long TreatmentSends { get; init; }

    public required long Outcomes { get; init; }

    /// <summary>Outcome count per type (open, click, visit, order).</summary>
    public required IReadOnlyDictionary<string, long> OutcomesByType { get; init; }

    public required long Exposures { get; init; }

    /// <summary>How long generating (not storing) the world took.</summary>
    public required TimeSpan Elapsed { get; init; }
}
