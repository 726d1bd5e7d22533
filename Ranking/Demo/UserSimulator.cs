using Ranking.Domain;

namespace Ranking.Demo;

/// <summary>One simulated event, columnar-friendly; turned into a <see cref="UserEvent"/> only when emitted.</summary>
internal struct SimEvent
{
    public long Ms;
    public int Item;
    public int Query;
    public int Context;
    public int Session;
    public byte Type;
    public byte Surface;
    public byte Quantity;
    public byte Stars;
}

/// <summary>
/// Simulates one user's whole history, day by day, into reusable buffers: sessions in time order (a session never
/// starts before the previous one ended), the CRM send and its outcomes, and the experiment exposure. Each user has
/// her own random stream (seed and user index), so a user's history does not depend on any other user.
/// </summary>
internal sealed class UserSimulator(DemoWorld world)
{
    internal const byte TypeView = 0, TypeCart = 1, TypeOrder = 2, TypeShare = 3, TypeSearch = 4, TypeRating = 5;
    internal const byte SurfaceHome = 0, SurfaceSearch = 1, SurfaceAnalogs = 2, SurfaceComplements = 3, SurfaceCrm = 4;

    internal static readonly string[] TypeNames =
    [
        EventTypeRegistry.View, EventTypeRegistry.Cart, EventTypeRegistry.Order, EventTypeRegistry.Share,
        EventTypeRegistry.Search, EventTypeRegistry.Rating,
    ];

    internal static readonly string[] SurfaceNames = ["home", "search", "analogs", "complements", "crm"];

    // Funnel parameters per kind of session (documented in DemoMarketplace and docs/DEMO.md).
    private const double RegularCart = 0.092, RegularOrder = 0.38, RegularMoreViews = 0.73;
    private const double ComplementCart = 0.35, ComplementOrder = 0.6, ComplementMoreViews = 0.45;
    private const double ReplenishCart = 0.7, ReplenishOrder = 0.85;
    private const double CrmCart = 0.4, CrmOrder = 0.7, CrmMoreViews = 0.5;
    private const double ShareRate = 0.015;
    private const double V2HomeCartLift = 1.10;

    private const long MinGapMs = 20 * 60_000;

    private readonly List<Intent> _pending = new(16);
    private readonly List<Intent> _today = new(8);
    private readonly double[] _rate = new double[12];
    private readonly double[] _hobbyChoice = new double[12 * 4];

    private Random _rng = null!;
    private DemoUserProfile _profile = null!;
    private int[] _hobbyNodes = [];
    private int _sessionNo;
    private bool _exposed;
    private bool _isV2;

    /// <summary>The user's events, in time order.</summary>
    public List<SimEvent> Events { get; } = new(1024);

    /// <summary>The user's CRM outcomes (open, click, visit, order), in time order per type.</summary>
    public List<CrmOutcome> Outcomes { get; } = new(4);

    public CrmSend? Send { get; private set; }

    public Exposure? Exposure { get; private set; }

    public void Run(int user)
    {
        Events.Clear();
        Outcomes.Clear();
        Send = null;
        Exposure = null;
        _pending.Clear();
        _sessionNo = 0;
        _exposed = false;
        _rng = new Random(DemoWorld.StreamSeed(world.Options.Seed, 1_000_000L + user));
        _profile = world.Profiles[user];
        _hobbyNodes = world.UserHobbyNodes[user];
        _isV2 = DemoWorld.VariantOf(world.Experiment, _profile.UserId) == 1;
        PrepareRates();

        var signupMs = world.UserSignupMs[user];
        var churnMs = world.UserChurnMs[user];
        var firstDay = signupMs <= world.StartMs ? 0 : (int)((signupMs - world.StartMs + DemoWorld.DayMs - 1) / DemoWorld.DayMs);
        var account = world.Users[user];
        var inAudience = account.HasConsent(CrmChannels.Email) && signupMs < world.SendMs;
        var treatment = inAudience && _rng.NextDouble() < 0.5;
        var sendDay = (int)((world.SendMs - world.StartMs) / DemoWorld.DayMs);
        var fatigued = treatment && DemoCampaignRule.IsFatigued(_profile);
        var windowEnd = world.SendMs + (DemoCampaignRule.OutcomeWindowDays * DemoWorld.DayMs);

        var lastEnd = long.MinValue / 2;
        var lastStart = long.MinValue / 2;
        for (var d = firstDay; d < world.Days; d++)
        {
            var dayStart = world.StartMs + (d * DemoWorld.DayMs);
            var dayEnd = dayStart + DemoWorld.DayMs;
            int month = world.DayMonth[d];
            if (d == sendDay && inAudience)
            {
                var recent = lastStart >= dayStart - (DemoCampaignRule.RecentDays * DemoWorld.DayMs);
                Send = new CrmSend
                {
                    SendId = $"{world.Campaign.Id}-{_profile.UserId}",
                    CampaignId = world.Campaign.Id,
                    UserId = _profile.UserId,
                    Channel = CrmChannels.Email,
                    SentAt = DateTimeOffset.FromUnixTimeMilliseconds(world.SendMs),
                    IsTreatment = treatment,
                    Variant = treatment ? "Winter gear email" : "",
                };
                if (treatment)
                {
                    Deliver(recent);
                }
            }

            _today.Clear();
            if (dayStart < churnMs && _rng.NextDouble() < _rate[month])
            {
                var hour = (_profile.PreferredHour + (int)Math.Round(2.0 * DemoWorld.Normal(_rng)) + 48) % 24;
                var start = dayStart + (hour * DemoWorld.HourMs) + _rng.NextInt64(DemoWorld.HourMs);
                if (start < churnMs)
                {
                    _today.Add(new Intent(start, IntentKind.Regular, -1, -1));
                }
            }

            for (var i = _pending.Count - 1; i >= 0; i--)
            {
                if (_pending[i].Due < dayEnd)
                {
                    _today.Add(_pending[i]);
                    _pending.RemoveAt(i);
                }
            }

            if (_today.Count == 0)
            {
                continue;
            }

            SortToday();
            foreach (var session in _today)
            {
                var start = Math.Max(session.Due, lastEnd + MinGapMs);
                if (start >= world.EndMs)
                {
                    continue;
                }

                if (fatigued && session.Kind == IntentKind.Regular && start >= world.SendMs && start < windowEnd
                    && _rng.NextDouble() < DemoCampaignRule.FatigueDropProbability)
                {
                    continue;
                }

                lastEnd = RunSession(start, session, month);
                lastStart = start;
            }
        }

        // Trim anything a session wrote past the end (a long last session).
        while (Events.Count > 0 && Events[^1].Ms >= world.EndMs)
        {
            Events.RemoveAt(Events.Count - 1);
        }

        if (inAudience)
        {
            AddWindowOutcomes(windowEnd);
        }
    }

    private void PrepareRates()
    {
        var e = _profile.Exploration;
        for (var m = 0; m < 12; m++)
        {
            var total = 0.0;
            for (var h = 0; h < _hobbyNodes.Length; h++)
            {
                total += (1 - e) * _profile.Hobbies[h].Weight * world.Nodes[_hobbyNodes[h]].Season[m];
                _hobbyChoice[(m * 4) + h] = total;
            }

            total += e;
            _hobbyChoice[(m * 4) + 3] = total;
            _rate[m] = Math.Min(0.9, _profile.ActivityLevel * total);
        }
    }

    /// <summary>A leaf for the user to browse now: one of her hobbies by its season, or anywhere (exploration).</summary>
    private int PickTargetLeaf(int month)
    {
        var x = _rng.NextDouble() * _hobbyChoice[(month * 4) + 3];
        for (var h = 0; h < _hobbyNodes.Length; h++)
        {
            if (x < _hobbyChoice[(month * 4) + h])
            {
                return world.Nodes[_hobbyNodes[h]].DrawLeaf(_rng, month);
            }
        }

        return world.AllLeaves.DrawLeaf(_rng, month);
    }

    private void SortToday()
    {
        for (var i = 1; i < _today.Count; i++)
        {
            var x = _today[i];
            var j = i - 1;
            while (j >= 0 && _today[j].Due > x.Due)
            {
                _today[j + 1] = _today[j];
                j--;
            }

            _today[j + 1] = x;
        }
    }

    private long RunSession(long t, Intent intent, int month)
    {
        var session = ++_sessionNo;
        if (intent.Kind == IntentKind.Rating)
        {
            var stars = world.Brands[world.ItemBrand[intent.Item]].Tier == BrandTier.Premium ? 4.3 : 3.8;
            var value = Math.Clamp((int)Math.Round(stars + DemoWorld.Normal(_rng)), 1, 5);
            Add(t, TypeRating, intent.Item, -1, -1, session, SurfaceHome, 0, (byte)value);
            return t + 30_000;
        }

        double cartBase, orderP, moreViews;
        var minViews = 1;
        var leaf = intent.Leaf;
        var surface = SurfaceHome;
        var context = -1;
        var searchFirst = false;
        switch (intent.Kind)
        {
            case IntentKind.Complement:
                (cartBase, orderP, moreViews) = (ComplementCart, ComplementOrder, ComplementMoreViews);
                surface = SurfaceComplements;
                context = intent.Item;
                searchFirst = _rng.NextDouble() < 0.4;
                break;
            case IntentKind.Replenish:
                (cartBase, orderP, moreViews) = (ReplenishCart, ReplenishOrder, 0.3);
                leaf = world.ItemLeaf[intent.Item];
                break;
            case IntentKind.Crm:
                (cartBase, orderP, moreViews) = (CrmCart, CrmOrder, CrmMoreViews);
                minViews = 2;
                leaf = world.Nodes[world.CampaignNode].DrawLeaf(_rng, month);
                surface = SurfaceCrm;
                break;
            default:
                (cartBase, orderP, moreViews) = (RegularCart, RegularOrder, RegularMoreViews);
                leaf = PickTargetLeaf(month);
                searchFirst = _rng.NextDouble() < _profile.SearchPropensity;
                if (!searchFirst && !_exposed && t >= world.ExperimentStartMs)
                {
                    _exposed = true;
                    Exposure = new Exposure
                    {
                        Experiment = world.Experiment.Name,
                        UserId = _profile.UserId,
                        Variant = world.Experiment.Variants[_isV2 ? 1 : 0].Name,
                        Timestamp = DateTimeOffset.FromUnixTimeMilliseconds(t),
                    };
                }

                break;
        }

        var query = -1;
        var queryLeaf = leaf;
        var brandFilter = -1;
        var colourFilter = -1;
        if (searchFirst)
        {
            (query, brandFilter, colourFilter) = PickQuery(leaf, t);
            Add(t, TypeSearch, -1, query, -1, session, SurfaceSearch, 0, 0);
            surface = SurfaceSearch;
            context = -1;
            t += 3_000 + _rng.NextInt64(12_000);
        }

        var views = minViews;
        while (views < 25 && _rng.NextDouble() < moreViews)
        {
            views++;
        }

        var currentLeaf = leaf;
        var previous = -1;
        for (var v = 0; v < views; v++)
        {
            int item;
            var viewSurface = surface;
            var viewContext = -1;
            var viewQuery = -1;
            if (v == 0)
            {
                item = intent.Kind == IntentKind.Replenish ? intent.Item : PickItem(leaf, t, brandFilter, colourFilter);
                viewContext = context;
                viewQuery = query;
            }
            else
            {
                var r = _rng.NextDouble();
                var complements = world.LeafComplements[currentLeaf];
                if (r < 0.45 || intent.Kind == IntentKind.Replenish)
                {
                    item = PickItem(currentLeaf, t, -1, -1);
                    viewSurface = SurfaceAnalogs;
                    viewContext = previous;
                }
                else if (r < 0.6 && query >= 0)
                {
                    // Another result of the last search: back on the search page, whatever was browsed since.
                    currentLeaf = queryLeaf;
                    item = PickItem(queryLeaf, t, brandFilter, colourFilter);
                    viewSurface = SurfaceSearch;
                    viewQuery = query;
                }
                else if (r < 0.72 && complements.Length > 0 && previous >= 0)
                {
                    currentLeaf = complements[_rng.Next(complements.Length)];
                    item = PickItem(currentLeaf, t, -1, -1);
                    viewSurface = SurfaceComplements;
                    viewContext = previous;
                }
                else if (intent.Kind == IntentKind.Regular)
                {
                    currentLeaf = PickTargetLeaf(month);
                    if (_rng.NextDouble() < _profile.SearchPropensity)
                    {
                        (query, brandFilter, colourFilter) = PickQuery(currentLeaf, t);
                        queryLeaf = currentLeaf;
                        t += 5_000 + _rng.NextInt64(20_000);
                        Add(t, TypeSearch, -1, query, -1, session, SurfaceSearch, 0, 0);
                        viewSurface = SurfaceSearch;
                        viewQuery = query;
                    }
                    else
                    {
                        query = brandFilter = colourFilter = -1;
                        viewSurface = SurfaceHome;
                    }

                    item = PickItem(currentLeaf, t, brandFilter, colourFilter);
                }
                else
                {
                    item = PickItem(currentLeaf, t, -1, -1);
                    viewSurface = SurfaceAnalogs;
                    viewContext = previous;
                }
            }

            if (item < 0)
            {
                continue;
            }

            t += 8_000 + (long)DemoWorld.Exponential(_rng, 40_000);
            Add(t, TypeView, item, viewQuery, viewContext, session, viewSurface, 0, 0);
            if (_rng.NextDouble() < ShareRate)
            {
                t += 5_000 + _rng.NextInt64(30_000);
                Add(t, TypeShare, item, -1, -1, session, viewSurface, 0, 0);
            }

            var cartP = cartBase * PriceFactor(item);
            if (_exposed && _isV2 && viewSurface == SurfaceHome)
            {
                cartP *= V2HomeCartLift;
            }

            if (_rng.NextDouble() < cartP)
            {
                var quantity = (byte)(world.ItemPrice[item] < 30 && _rng.NextDouble() < 0.15 ? 2 : 1);
                t += 5_000 + _rng.NextInt64(55_000);
                Add(t, TypeCart, item, -1, -1, session, viewSurface, quantity, 0);
                if (_rng.NextDouble() < orderP)
                {
                    t += 30_000 + _rng.NextInt64(450_000);
                    Add(t, TypeOrder, item, -1, -1, session, viewSurface, quantity, 0);
                    OnOrder(item, t);
                }
            }

            previous = item;
        }

        return t;
    }

    /// <summary>Bargain hunters cart expensive items less; the factor averages about 1 over a leaf's price range.</summary>
    private double PriceFactor(int item)
    {
        var index = world.LeafIndex[world.ItemLeaf[item]];
        var span = index.MaxPrice - index.MinPrice;
        var relative = span > 0 ? (world.ItemPrice[item] - index.MinPrice) / span : 0.5;
        return 1.0 - (0.8 * _profile.PriceSensitivity * (relative - 0.35));
    }

    /// <summary>What follows an order: complements within days to weeks, replenishment of consumables, a rating.</summary>
    private void OnOrder(int item, long t)
    {
        var leaf = world.ItemLeaf[item];
        var complements = world.LeafComplements[leaf];
        for (var j = 0; j < complements.Length; j++)
        {
            if (_rng.NextDouble() < (j == 0 ? 0.55 : 0.35) && !PendingFor(complements[j], -1))
            {
                var delay = Math.Min(55 * DemoWorld.DayMs, (long)((1 + DemoWorld.Exponential(_rng, 8)) * DemoWorld.DayMs));
                _pending.Add(new Intent(t + delay, IntentKind.Complement, complements[j], item));
            }
        }

        var replenish = world.Tree.Leaves[leaf].ReplenishDays;
        if (replenish > 0 && _rng.NextDouble() < 0.6 && !PendingFor(-1, item))
        {
            var delay = (long)(replenish * DemoWorld.Uniform(_rng, 0.8, 1.3) * DemoWorld.DayMs);
            _pending.Add(new Intent(t + delay, IntentKind.Replenish, leaf, item));
        }

        if (_rng.NextDouble() < 0.08)
        {
            _pending.Add(new Intent(t + (long)(DemoWorld.Uniform(_rng, 5, 25) * DemoWorld.DayMs), IntentKind.Rating, leaf, item));
        }
    }

    private bool PendingFor(int leaf, int item)
    {
        foreach (var p in _pending)
        {
            if ((leaf >= 0 && p.Leaf == leaf && p.Kind == IntentKind.Complement) || (item >= 0 && p.Item == item && p.Kind == IntentKind.Replenish))
            {
                return true;
            }
        }

        return false;
    }

    private (int Query, int Brand, int Colour) PickQuery(int leaf, long t)
    {
        var from = world.LeafQueryStart[leaf];
        var to = world.LeafQueryStart[leaf + 1];
        var r = _rng.NextDouble();
        var spec = world.QuerySpecs[from];
        if (r < 0.6)
        {
            // The generic queries (noun, category name) come first, before the brand ones.
            var generic = world.QuerySpecs[from + 1].Brand < 0 && world.QuerySpecs[from + 1].Colour < 0 ? 2 : 1;
            spec = world.QuerySpecs[from + _rng.Next(generic)];
        }
        else if (r < 0.8)
        {
            // A brand query names a brand of an item that exists, so that it finds something.
            var probe = PickItem(leaf, t, -1, -1);
            if (probe >= 0)
            {
                for (var q = from; q < to; q++)
                {
                    if (world.QuerySpecs[q].Brand == world.ItemBrand[probe])
                    {
                        spec = world.QuerySpecs[q];
                        break;
                    }
                }
            }
        }
        else
        {
            for (var q = from; q < to; q++)
            {
                if (world.QuerySpecs[q].Colour >= 0)
                {
                    spec = world.QuerySpecs[q + _rng.Next(DemoWorld.Colours.Length)];
                    break;
                }
            }
        }

        return (spec.Text, spec.Brand, spec.Colour);
    }

    /// <summary>
    /// An item of the leaf that exists at <paramref name="t"/>, by popularity; a search's brand or colour is matched
    /// when a few draws find it; a bargain hunter takes the cheaper of two. -1 when the leaf has nothing yet.
    /// </summary>
    private int PickItem(int leaf, long t, int brand, int colour)
    {
        var index = world.LeafIndex[leaf];
        var available = index.AvailableAt(t);
        if (available == 0)
        {
            return -1;
        }

        var item = index.Draw(_rng, available);
        if (brand >= 0 || colour >= 0)
        {
            for (var k = 0; k < 12 && !Matches(item, brand, colour); k++)
            {
                item = index.Draw(_rng, available);
            }

            return item;
        }

        if (_rng.NextDouble() < _profile.PriceSensitivity)
        {
            var other = index.Draw(_rng, available);
            if (world.ItemPrice[other] < world.ItemPrice[item])
            {
                item = other;
            }
        }

        return item;
    }

    private bool Matches(int item, int brand, int colour) =>
        (brand < 0 || world.ItemBrand[item] == brand) && (colour < 0 || world.ItemColour[item] == colour);

    /// <summary>The e-mail reaches a treated user: open, and for an induced visit a click and a crm session.</summary>
    private void Deliver(bool recentlyActive)
    {
        var induced = _rng.NextDouble() < DemoCampaignRule.InducedVisitProbability(_profile, recentlyActive);
        var opens = induced || _rng.NextDouble() < (recentlyActive ? 0.38 : 0.18);
        if (!opens || Send is null)
        {
            return;
        }

        // Most people open at their usual hour; the rest soon after the send.
        long openMs;
        if (_rng.NextDouble() < 0.6)
        {
            var sendHour = (int)(world.SendMs % DemoWorld.DayMs / DemoWorld.HourMs);
            var hoursAhead = ((_profile.PreferredHour - sendHour) + 24) % 24;
            openMs = world.SendMs + (hoursAhead * DemoWorld.HourMs) + _rng.NextInt64(DemoWorld.HourMs);
        }
        else
        {
            openMs = world.SendMs + 60_000 + (long)DemoWorld.Exponential(_rng, 3 * DemoWorld.HourMs);
        }

        Outcomes.Add(new CrmOutcome { SendId = Send.SendId, Type = CrmOutcomeTypes.Open, Timestamp = DateTimeOffset.FromUnixTimeMilliseconds(openMs) });
        if (induced)
        {
            var clickMs = openMs + 10_000 + _rng.NextInt64(290_000);
            Outcomes.Add(new CrmOutcome { SendId = Send.SendId, Type = CrmOutcomeTypes.Click, Timestamp = DateTimeOffset.FromUnixTimeMilliseconds(clickMs) });
            _pending.Add(new Intent(clickMs + 5_000, IntentKind.Crm, -1, -1));
        }
    }

    private void AddWindowOutcomes(long windowEnd)
    {
        if (Send is null)
        {
            return;
        }

        var firstEvent = -1L;
        var firstOrder = -1L;
        var spend = 0.0;
        foreach (var e in Events)
        {
            if (e.Ms < world.SendMs)
            {
                continue;
            }

            if (e.Ms >= windowEnd)
            {
                break;
            }

            if (firstEvent < 0)
            {
                firstEvent = e.Ms;
            }

            if (e.Type == TypeOrder)
            {
                if (firstOrder < 0)
                {
                    firstOrder = e.Ms;
                }

                spend += world.ItemPrice[e.Item] * e.Quantity;
            }
        }

        if (firstEvent >= 0)
        {
            Outcomes.Add(new CrmOutcome { SendId = Send.SendId, Type = CrmOutcomeTypes.Visit, Timestamp = DateTimeOffset.FromUnixTimeMilliseconds(firstEvent) });
        }

        if (firstOrder >= 0)
        {
            Outcomes.Add(new CrmOutcome
            {
                SendId = Send.SendId,
                Type = CrmOutcomeTypes.Order,
                Timestamp = DateTimeOffset.FromUnixTimeMilliseconds(firstOrder),
                Value = Math.Round(spend, 2),
            });
        }
    }

    private void Add(long ms, byte type, int item, int query, int context, int session, byte surface, byte quantity, byte stars) =>
        Events.Add(new SimEvent
        {
            Ms = ms,
            Item = item,
            Query = query,
            Context = context,
            Session = session,
            Type = type,
            Surface = surface,
            Quantity = quantity,
            Stars = stars,
        });

    private enum IntentKind : byte
    {
        Regular,
        Complement,
        Replenish,
        Rating,
        Crm,
    }

    /// <summary>A session that will happen: a regular one today, or one planned by an earlier order or the e-mail.</summary>
    private readonly record struct Intent(long Due, IntentKind Kind, int Leaf, int Item);
}
