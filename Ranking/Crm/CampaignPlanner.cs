using System.Globalization;
using Ranking.Candidates;
using Ranking.Data;
using Ranking.Domain;

namespace Ranking.Crm;

/// <summary>What a campaign promotes: a category path (a top-level one or a leaf), a brand, or given items.</summary>
public sealed record CampaignGoal
{
    public string? Category { get; init; }

    public string? Brand { get; init; }

    public IReadOnlyList<string> ItemIds { get; init; } = [];
}

/// <summary>A campaign to plan.</summary>
public sealed record CampaignRequest
{
    public required string Name { get; init; }

    public required CampaignGoal Goal { get; init; }

    /// <summary>Messages to send (the treated users); the holdout comes on top.</summary>
    public required int Budget { get; init; }

    public string Channel { get; init; } = CrmChannels.Email;

    /// <summary>Share of the chosen audience held back as control, in [0, 0.5].</summary>
    public double HoldoutShare { get; init; } = 0.1;

    /// <summary>The earliest send time.</summary>
    public required DateTimeOffset NotBefore { get; init; }

    public int ItemsPerMessage { get; init; } = 3;

    /// <summary>Value of an order blends price (0) and margin (1) by this weight.</summary>
    public double MarginWeight { get; init; } = 0.5;

    public int Seed { get; init; } = 42;
}

/// <summary>One user of a plan: a message (treatment) or the holdout (control), with what ranked her.</summary>
public sealed record PlannedSend
{
    public required string UserId { get; init; }

    public required bool IsTreatment { get; init; }

    public required DateTimeOffset SendAt { get; init; }

    /// <summary>The ranking score: expected incremental value (uplift × value) or, without an uplift model, propensity × value.</summary>
    public double Score { get; init; }

    public double Propensity { get; init; }

    /// <summary>Estimated uplift of P(order); NaN when no uplift model could be trained.</summary>
    public double Uplift { get; init; }

    /// <summary>Item indices of the message, best first (empty for control).</summary>
    public IReadOnlyList<int> Items { get; init; } = [];
}

/// <summary>A planned campaign.</summary>
public sealed record CampaignPlan
{
    public required IReadOnlyList<PlannedSend> Sends { get; init; }

    /// <summary>Users the catalog and events know plus users without history, before any filter.</summary>
    public int Users { get; init; }

    public int WithoutConsent { get; init; }

    public int Capped { get; init; }

    public int Eligible { get; init; }

    /// <summary>"uplift (T-learner on N past sends)" or "propensity" — what ranked the audience.</summary>
    public required string Ranking { get; init; }

    /// <summary>Mean value of an order in the goal's scope (price and margin blended).</summary>
    public double OrderValue { get; init; }

    /// <summary>Catalog item indices in the goal's scope.</summary>
    public required IReadOnlyList<int> ScopeItems { get; init; }
}

/// <summary>Why a campaign request cannot be planned; the message is for the caller.</summary>
public sealed class CampaignPlanningException(string field, string message) : Exception(message)
{
    public string Field { get; } = field;
}

/// <summary>Past campaign rows an uplift model learns from: per send, the user, the arm, the time and whether she ordered.</summary>
public sealed record PastSend(string UserId, bool IsTreatment, DateTimeOffset SentAt, bool Converted);

/// <summary>Who may be contacted and when: the contact policy as the planner sees it.</summary>
public interface IContactRules
{
    /// <summary>False with a reason when the user may not be contacted on the channel at the time.</summary>
    bool CanContact(User user, string channel, DateTimeOffset at, out string reason);

    /// <summary>The time to send to this user, not before <paramref name="notBefore"/>.</summary>
    DateTimeOffset SendTime(string userId, DateTimeOffset notBefore);
}

/// <summary>
/// Plans a campaign: eligible users (consent, contact rules) ranked by expected incremental value, a random holdout
/// of the chosen audience, items per user from the user's own history within the goal's scope, a send time per user.
/// </summary>
/// <remarks>
/// Ranking: when past sends with both arms exist (at least <see cref="MinArmSize"/> each), a T-learner on the
/// propensity features of the goal estimates the uplift of P(order) and the score is uplift × order value; otherwise
/// the score is propensity × order value, where the propensity model is trained on the log at two earlier cuts.
/// </remarks>
public static class CampaignPlanner
{
    /// <summary>Fewest sends per arm for an uplift model.</summary>
    public const int MinArmSize = 50;

    /// <exception cref="CampaignPlanningException">The goal names nothing in the catalog, nobody is eligible, or the budget exceeds the audience.</exception>
    public static CampaignPlan Plan(
        CampaignRequest request, InteractionLog log, IReadOnlyList<User> users, IReadOnlyList<PastSend> pastSends, IContactRules rules,
        CancellationToken cancellationToken = default) =>
        Plan(request, log, users, pastSends, rules, null, cancellationToken);

    /// <summary>Plans a campaign; with <paramref name="ranker"/> (the serving pipeline) each treated user's items are the
    /// ranker's choice within the scope, else item-kNN and popularity pick them.</summary>
    public static CampaignPlan Plan(
        CampaignRequest request, InteractionLog log, IReadOnlyList<User> users, IReadOnlyList<PastSend> pastSends, IContactRules rules,
        Fusion.Recommender? ranker, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(log);
        ArgumentNullException.ThrowIfNull(users);
        ArgumentNullException.ThrowIfNull(pastSends);
        ArgumentNullException.ThrowIfNull(rules);
        Validate(request);

        var (target, scope) = ResolveGoal(request.Goal, log);
        var orderValue = OrderValue(log.Items, scope, request.MarginWeight);

        // Eligibility first: consent and the contact rules.
        var eligible = new List<User>();
        int withoutConsent = 0, capped = 0;
        foreach (var user in users)
        {
            if (!user.HasConsent(request.Channel))
            {
                withoutConsent++;
                continue;
            }

            if (!rules.CanContact(user, request.Channel, request.NotBefore, out _))
            {
                capped++;
                continue;
            }

            eligible.Add(user);
        }

        if (eligible.Count == 0)
        {
            throw new CampaignPlanningException("audience", $"No user can be contacted on '{request.Channel}': {withoutConsent} without consent, {capped} held back by the contact policy.");
        }

        var audienceSize = (int)Math.Ceiling(request.Budget / (1 - request.HoldoutShare));
        if (audienceSize > eligible.Count)
        {
            throw new CampaignPlanningException("budget", $"A budget of {request.Budget} messages with a {request.HoldoutShare:P0} holdout needs {audienceSize} users; only {eligible.Count} are eligible.");
        }

        var features = new PropensityFeatures(log, target);
        var matrix = FeaturesAt(features, eligible, request.NotBefore);
        var (p, affinityOnly) = Propensities(features, matrix, request.NotBefore, cancellationToken);
        var (uplift, ranking) = EstimateUplift(features, pastSends, matrix, cancellationToken);
        if (affinityOnly && ranking.StartsWith("propensity", StringComparison.Ordinal))
        {
            ranking = "affinity × order value (too little history for a propensity model)";
        }

        var scores = new double[eligible.Count];
        for (var k = 0; k < scores.Length; k++)
        {
            scores[k] = (double.IsNaN(uplift[k]) ? p[k] : uplift[k]) * orderValue;
        }

        // Best first; ties by user id so a plan is repeatable.
        var order = Enumerable.Range(0, eligible.Count)
            .OrderByDescending(k => scores[k]).ThenBy(k => eligible[k].Id, StringComparer.Ordinal)
            .Take(audienceSize).ToArray();
        var holdout = PickHoldout(order.Length, audienceSize - request.Budget, request.Seed);

        var itemRanker = ItemKnnModel.Train(log, new ItemKnnOptions { Neighbours = 100 }, cancellationToken);
        var popularity = PopularityModel.Train(log, cancellationToken: cancellationToken);
        var sends = new List<PlannedSend>(order.Length);
        for (var r = 0; r < order.Length; r++)
        {
            var k = order[r];
            var user = eligible[k];
            var treated = !holdout.Contains(r);
            sends.Add(new PlannedSend
            {
                UserId = user.Id,
                IsTreatment = treated,
                SendAt = rules.SendTime(user.Id, request.NotBefore),
                Score = scores[k],
                Propensity = p[k],
                Uplift = uplift[k],
                Items = !treated ? []
                    : (ranker is null ? null : RankItems(ranker, user.Id, log, scope, popularity, request))
                        ?? PickItems(user.Id, log, scope, itemRanker, popularity, request.ItemsPerMessage),
            });
        }

        return new CampaignPlan
        {
            Sends = sends,
            Users = users.Count,
            WithoutConsent = withoutConsent,
            Capped = capped,
            Eligible = eligible.Count,
            Ranking = ranking,
            OrderValue = orderValue,
            ScopeItems = scope,
        };
    }

    /// <summary>The scope of a goal: its propensity target and the catalog items it covers.</summary>
    /// <exception cref="CampaignPlanningException">The goal names no existing category, brand or item.</exception>
    public static (PropensityTarget Target, int[] Items) ResolveGoal(CampaignGoal goal, InteractionLog log)
    {
        ArgumentNullException.ThrowIfNull(goal);
        ArgumentNullException.ThrowIfNull(log);
        var items = log.Items;
        var named = (goal.Category is not null ? 1 : 0) + (goal.Brand is not null ? 1 : 0) + (goal.ItemIds.Count > 0 ? 1 : 0);
        if (named != 1)
        {
            throw new CampaignPlanningException("goal", "Name exactly one of a category, a brand or items.");
        }

        var scope = new List<int>();
        PropensityTarget target;
        if (goal.Category is { } category)
        {
            var path = CategoryPath.Normalize(category);
            var prefix = path + CategoryPath.Separator;
            var isLeaf = false;
            for (var i = 0; i < log.CatalogItemCount; i++)
            {
                var c = items.CategoryIndex[i];
                if (c < 0)
                {
                    continue;
                }

                var itemPath = items.Categories[c];
                var exact = string.Equals(itemPath, path, StringComparison.OrdinalIgnoreCase);
                if (exact || itemPath.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
                {
                    scope.Add(i);
                    isLeaf |= exact;
                }
            }

            // The propensity model learns a leaf or a top-level category; an inner node ("Sports/Winter") takes its
            // top-level category's propensity, while the scope of items stays the node's subtree.
            target = isLeaf && scope.Count > 0
                ? PropensityTarget.Category(items.Categories[items.CategoryIndex[scope[0]]])
                : PropensityTarget.TopCategory(scope.Count > 0 ? items.Categories[items.TopCategoryIndex[scope[0]]] : CategoryPath.Top(path));
            Require(scope, "goal.category", $"No catalog item is in category '{category}'.");
        }
        else if (goal.Brand is { } brand)
        {
            for (var i = 0; i < log.CatalogItemCount; i++)
            {
                var b = items.BrandIndex[i];
                if (b >= 0 && string.Equals(items.Brands[b], brand, StringComparison.OrdinalIgnoreCase))
                {
                    scope.Add(i);
                }
            }

            Require(scope, "goal.brand", $"No catalog item has brand '{brand}'.");
            target = PropensityTarget.Brand(items.Brands[items.BrandIndex[scope[0]]]);
        }
        else
        {
            var missing = new List<string>();
            foreach (var id in goal.ItemIds)
            {
                if (log.TryGetItemIndex(id, out var i) && i < log.CatalogItemCount && items.IsKnown(i))
                {
                    scope.Add(i);
                }
                else
                {
                    missing.Add(id);
                }
            }

            if (missing.Count > 0)
            {
                throw new CampaignPlanningException("goal.itemIds", $"Not in the catalog: {string.Join(", ", missing.Take(10))}.");
            }

            // Propensity for the items' leaf category (the most common one among them).
            var leaf = scope.GroupBy(i => items.CategoryIndex[i]).OrderByDescending(g => g.Count()).First().Key;
            target = PropensityTarget.Category(items.Categories[leaf]);
        }

        return (target, [.. scope.Distinct()]);
    }

    private static void Require(List<int> scope, string field, string message)
    {
        if (scope.Count == 0)
        {
            throw new CampaignPlanningException(field, message);
        }
    }

    private static void Validate(CampaignRequest request)
    {
        if (string.IsNullOrWhiteSpace(request.Name))
        {
            throw new CampaignPlanningException("name", "A campaign needs a name.");
        }

        if (request.Budget < 1)
        {
            throw new CampaignPlanningException("budget", "The budget must be at least one message.");
        }

        if (request.HoldoutShare is < 0 or > 0.5 || double.IsNaN(request.HoldoutShare))
        {
            throw new CampaignPlanningException("holdoutShare", "The holdout share must be between 0 and 0.5.");
        }

        if (request.ItemsPerMessage is < 1 or > 20)
        {
            throw new CampaignPlanningException("itemsPerMessage", "Between 1 and 20 items per message.");
        }

        if (request.MarginWeight is < 0 or > 1 || double.IsNaN(request.MarginWeight))
        {
            throw new CampaignPlanningException("marginWeight", "The margin weight must be between 0 and 1.");
        }
    }

    /// <summary>Mean over the scope of (1 − w)·price + w·margin; items without a price are left out, a missing margin counts as 0.</summary>
    public static double OrderValue(ItemTable items, IReadOnlyList<int> scope, double marginWeight)
    {
        ArgumentNullException.ThrowIfNull(items);
        ArgumentNullException.ThrowIfNull(scope);
        double sum = 0;
        var n = 0;
        foreach (var i in scope)
        {
            var price = items.Price[i];
            if (float.IsNaN(price))
            {
                continue;
            }

            var margin = float.IsNaN(items.Cost[i]) ? 0 : price - items.Cost[i];
            sum += ((1 - marginWeight) * price) + (marginWeight * margin);
            n++;
        }

        return n == 0 ? 1 : sum / n;
    }

    // P(order in the goal within 30 days); when the log is too short to train on (no events before the training
    // cuts, one class only), the user's share of events in the goal stands in, so a small shop can still plan.
    private static (double[] P, bool AffinityOnly) Propensities(
        PropensityFeatures features, FeatureMatrix matrix, DateTimeOffset now, CancellationToken cancellationToken)
    {
        try
        {
            var model = TrainPropensity(features, now, cancellationToken);
            if (!model.IsConstant)
            {
                return (model.Predict(matrix), false);
            }
        }
        catch (ArgumentException)
        {
            // Too little history: fall through to affinity.
        }
        catch (InvalidOperationException)
        {
            // ML.NET refuses a degenerate training set: fall through to affinity.
        }

        var column = matrix.IndexOf("target_share");
        var p = new double[matrix.RowCount];
        for (var k = 0; k < p.Length; k++)
        {
            p[k] = column >= 0 ? matrix[k, column] : 0;
        }

        return (p, true);
    }

    private static PropensityModel TrainPropensity(PropensityFeatures features, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var horizon = TimeSpan.FromDays(30);
        var last = LastEventTime(features.Log);
        var anchor = last < now ? last : now;
        DateTimeOffset[] cuts = [anchor - horizon, anchor - (2 * horizon)];
        return PropensityModel.Train(features, cuts, new PropensityOptions { Horizon = horizon }, cancellationToken);
    }

    private static DateTimeOffset LastEventTime(InteractionLog log)
    {
        long max = 0;
        foreach (var t in log.TimestampMs)
        {
            max = Math.Max(max, t);
        }

        return DateTimeOffset.FromUnixTimeMilliseconds(max);
    }

    private static FeatureMatrix FeaturesAt(PropensityFeatures features, List<User> users, DateTimeOffset at)
    {
        var columns = PropensityFeatures.ColumnNames.Count;
        var values = new float[users.Count * columns];
        for (var k = 0; k < users.Count; k++)
        {
            features.Compute(users[k].Id, at, values.AsSpan(k * columns, columns));
        }

        return new FeatureMatrix(PropensityFeatures.ColumnNames, values);
    }

    private static (double[] Uplift, string Ranking) EstimateUplift(
        PropensityFeatures features, IReadOnlyList<PastSend> past, FeatureMatrix candidates, CancellationToken cancellationToken)
    {
        var none = new double[candidates.RowCount];
        Array.Fill(none, double.NaN);
        var treated = past.Count(s => s.IsTreatment);
        if (treated < MinArmSize || past.Count - treated < MinArmSize)
        {
            return (none, "propensity × order value (too few past sends for an uplift model)");
        }

        cancellationToken.ThrowIfCancellationRequested();
        var columns = PropensityFeatures.ColumnNames.Count;
        var values = new float[past.Count * columns];
        var arms = new bool[past.Count];
        var outcomes = new double[past.Count];
        for (var k = 0; k < past.Count; k++)
        {
            features.Compute(past[k].UserId, past[k].SentAt, values.AsSpan(k * columns, columns));
            arms[k] = past[k].IsTreatment;
            outcomes[k] = past[k].Converted ? 1 : 0;
        }

        if (outcomes.All(o => o == 0) || outcomes.All(o => o == 1))
        {
            return (none, "propensity × order value (past sends have no variation in conversion)");
        }

        var model = new TLearner(BoostedTreeOptions.Shallow).Fit(new FeatureMatrix(PropensityFeatures.ColumnNames, values), arms, outcomes);
        var uplift = model.PredictUplift(candidates);
        return (uplift, string.Create(CultureInfo.InvariantCulture, $"uplift × order value (T-learner on {past.Count} past sends)"));
    }

    private static HashSet<int> PickHoldout(int audience, int holdout, int seed)
    {
        var positions = Enumerable.Range(0, audience).ToArray();
        new Random(seed).Shuffle(positions);
        return [.. positions.Take(holdout)];
    }

    /// <summary>
    /// The serving pipeline's choice in scope: the scope's items (most popular first) re-ranked for the user by the
    /// fusion model's P(order) and the campaign's value weight. Null when the ranker knows none of the scope's items.
    /// </summary>
    private static int[]? RankItems(Fusion.Recommender ranker, string userId, InteractionLog log, int[] scope, PopularityModel popularity, CampaignRequest request)
    {
        var catalog = ranker.Models.Catalog;
        var pop = popularity.Scores.ToArray();
        var retrieved = new List<ScoredItem>();
        foreach (var i in scope.OrderByDescending(i => pop[i]).ThenBy(i => i).Take(200))
        {
            if (catalog.TryGetItem(log.ItemIds[i], out var served))
            {
                retrieved.Add(new ScoredItem(served, pop[i]));
            }
        }

        if (retrieved.Count == 0)
        {
            return null;
        }

        var events = new List<UserEvent>();
        if (log.TryGetUserIndex(userId, out var u))
        {
            for (var r = log.UserOffsets[u]; r < log.UserOffsets[u + 1]; r++)
            {
                if (log.Item[r] >= 0)
                {
                    events.Add(new UserEvent
                    {
                        EventId = "", UserId = userId, ItemId = log.ItemIds[log.Item[r]], Type = log.EventTypes.NameOf(log.Type[r]),
                        Timestamp = DateTimeOffset.FromUnixTimeMilliseconds(log.TimestampMs[r]),
                    });
                }
            }
        }

        var history = catalog.HistoryOf(userId, events);
        var answer = ranker.Rerank(history, retrieved, "", new Fusion.RecommendationRequest
        {
            Count = request.ItemsPerMessage, NowMs = request.NotBefore.ToUnixTimeMilliseconds(), MarginWeight = request.MarginWeight,
        });
        var picked = new List<int>();
        foreach (var item in answer.Items)
        {
            if (log.TryGetItemIndex(catalog.ItemId(item.Item), out var i))
            {
                picked.Add(i);
            }
        }

        return picked.Count > 0 ? [.. picked] : null;
    }

    /// <summary>The user's best items in scope: item-kNN from her history, then the scope's most popular; never an item she ordered.</summary>
    private static int[] PickItems(string userId, InteractionLog log, int[] scope, ItemKnnModel knn, PopularityModel popularity, int count)
    {
        var scores = new float[log.ItemCount];
        var known = log.TryGetUserIndex(userId, out var u);
        var history = known ? UserHistory.Of(log, u) : UserHistory.Unknown;
        var personal = knn.Score(history, scores);
        var ordered = new HashSet<int>();
        if (known && log.EventTypes.TryGetCode(EventTypeRegistry.Order, out var orderCode))
        {
            for (var r = log.UserOffsets[u]; r < log.UserOffsets[u + 1]; r++)
            {
                if (log.Type[r] == orderCode && log.Item[r] >= 0)
                {
                    ordered.Add(log.Item[r]);
                }
            }
        }

        var pop = popularity.Scores.ToArray();
        return scope
            .Where(i => !ordered.Contains(i) && log.Items.InStock[i])
            .OrderByDescending(i => personal && !float.IsNegativeInfinity(scores[i]) ? 1 : 0)
            .ThenByDescending(i => personal ? scores[i] : 0)
            .ThenByDescending(i => pop[i])
            .ThenBy(i => i)
            .Take(count)
            .ToArray();
    }
}
