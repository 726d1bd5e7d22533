using Ranking.Domain;

namespace Ranking.Experiments;

/// <summary>Why a user got (or did not get) a variant.</summary>
public enum AssignmentReason
{
    Assigned,
    NotRunning,
    Holdout,
    NotTargeted,
    OtherExperimentInLayer,
    OutsideCoverage,
}

/// <summary>A user's place in one experiment.</summary>
/// <param name="Variant">The variant, or null when the user is not in the experiment (then the defaults apply).</param>
public sealed record Assignment(string Experiment, string UserId, string? Variant, AssignmentReason Reason, IReadOnlyDictionary<string, string> Parameters)
{
    public bool InExperiment => Variant is not null;
}

/// <summary>
/// Deterministic assignment of users to experiments, without storing anything:
/// <list type="number">
/// <item><description>A global holdout (<see cref="HoldoutShare"/> of all users, by a hash with <see cref="HoldoutSalt"/>) sees no experiment.</description></item>
/// <item><description>Targeting rules on user attributes must all hold.</description></item>
/// <item><description>A hash of (layer, user) places the user in the layer; the experiment owns a slice of it, so experiments of one layer are mutually exclusive, and layers are independent of each other.</description></item>
/// <item><description>A hash of (experiment salt, user) below <see cref="Experiment.Coverage"/> takes part: raising the coverage keeps everyone already in.</description></item>
/// <item><description>An independent hash of (experiment salt, user) picks the variant by cumulative shares, so the variant of a user does not change when coverage grows.</description></item>
/// </list>
/// </summary>
public sealed class ExperimentAssigner(double holdoutShare = 0.0, string holdoutSalt = "global-holdout")
{
    public double HoldoutShare { get; } = holdoutShare is >= 0 and < 1
        ? holdoutShare
        : throw new ArgumentOutOfRangeException(nameof(holdoutShare), holdoutShare, "The holdout share must be in [0, 1).");

    public string HoldoutSalt { get; } = holdoutSalt;

    public bool IsHeldOut(string userId) => HoldoutShare > 0 && UserHash.Unit("holdout", HoldoutSalt, userId) < HoldoutShare;

    /// <param name="attributes">The user's attributes; an unknown user has none (and fails rules that need one).</param>
    public Assignment Assign(Experiment experiment, string userId, IReadOnlyDictionary<string, string>? attributes = null)
    {
        ArgumentNullException.ThrowIfNull(experiment);
        ArgumentException.ThrowIfNullOrEmpty(userId);
        var reason = Place(experiment, userId, attributes ?? Empty);
        if (reason != AssignmentReason.Assigned)
        {
            return new Assignment(experiment.Name, userId, null, reason, Empty);
        }

        var variant = PickVariant(experiment, userId);
        return new Assignment(experiment.Name, userId, variant.Name, reason, variant.Parameters ?? Empty);
    }

    private AssignmentReason Place(Experiment experiment, string userId, IReadOnlyDictionary<string, string> attributes)
    {
        if (experiment.Status != ExperimentStatus.Running)
        {
            return AssignmentReason.NotRunning;
        }

        if (IsHeldOut(userId))
        {
            return AssignmentReason.Holdout;
        }

        foreach (var rule in experiment.Targeting)
        {
            if (!rule.Matches(attributes))
            {
                return AssignmentReason.NotTargeted;
            }
        }

        var place = UserHash.Unit("layer", experiment.Layer, userId);
        if (place < experiment.LayerOffset || place >= experiment.LayerOffset + experiment.LayerShare)
        {
            return AssignmentReason.OtherExperimentInLayer;
        }

        return UserHash.Unit("coverage", experiment.Salt, userId) < experiment.Coverage ? AssignmentReason.Assigned : AssignmentReason.OutsideCoverage;
    }

    private static ExperimentVariant PickVariant(Experiment experiment, string userId)
    {
        var u = UserHash.Unit("variant", experiment.Salt, userId);
        var total = 0.0;
        foreach (var v in experiment.Variants)
        {
            total += v.Share;
        }

        var cumulative = 0.0;
        foreach (var v in experiment.Variants)
        {
            cumulative += v.Share / total;
            if (u < cumulative)
            {
                return v;
            }
        }

        return experiment.Variants[^1];
    }

    /// <summary>
    /// Checks an experiment definition: at least two variants with distinct names, shares in (0, 1] adding up to 1
    /// (within 1e-6), coverage and layer slice in range, known targeting operators. Errors name the field.
    /// </summary>
    public static List<FieldError> Validate(Experiment experiment)
    {
        var errors = new List<FieldError>();
        if (string.IsNullOrWhiteSpace(experiment.Name) || experiment.Name.Length > 128)
        {
            errors.Add(new("name", "The name is required (at most 128 characters)."));
        }

        if (string.IsNullOrWhiteSpace(experiment.Salt))
        {
            errors.Add(new("salt", "The salt is required."));
        }

        if (experiment.Variants is null || experiment.Variants.Count < 2)
        {
            errors.Add(new("variants", "An experiment needs at least two variants (the first is the control)."));
        }
        else
        {
            var sum = 0.0;
            var names = new HashSet<string>(StringComparer.Ordinal);
            for (var i = 0; i < experiment.Variants.Count; i++)
            {
                var v = experiment.Variants[i];
                if (string.IsNullOrWhiteSpace(v.Name) || !names.Add(v.Name))
                {
                    errors.Add(new($"variants[{i}].name", "Variant names are required and distinct."));
                }

                if (!double.IsFinite(v.Share) || v.Share <= 0 || v.Share > 1)
                {
                    errors.Add(new($"variants[{i}].share", $"A share is in (0, 1]; it was {v.Share}."));
                }

                sum += v.Share;
            }

            if (Math.Abs(sum - 1) > 1e-6)
            {
                errors.Add(new("variants", $"The shares add up to {sum}; they must add up to 1."));
            }
        }

        if (!double.IsFinite(experiment.Coverage) || experiment.Coverage <= 0 || experiment.Coverage > 1)
        {
            errors.Add(new("coverage", $"Coverage is in (0, 1]; it was {experiment.Coverage}."));
        }

        if (!double.IsFinite(experiment.LayerShare) || experiment.LayerShare <= 0 || experiment.LayerShare > 1)
        {
            errors.Add(new("layerShare", $"The layer share is in (0, 1]; it was {experiment.LayerShare}."));
        }

        if (!double.IsFinite(experiment.LayerOffset) || experiment.LayerOffset < 0 || experiment.LayerOffset + experiment.LayerShare > 1 + 1e-9)
        {
            errors.Add(new("layerOffset", $"The slice [{experiment.LayerOffset}, {experiment.LayerOffset + experiment.LayerShare}) must lie within [0, 1]."));
        }

        for (var i = 0; i < experiment.Targeting.Count; i++)
        {
            var rule = experiment.Targeting[i];
            if (string.IsNullOrWhiteSpace(rule.Attribute))
            {
                errors.Add(new($"targeting[{i}].attribute", "The attribute is required."));
            }

            if (!TargetingRule.Operators.Contains(rule.Operator))
            {
                errors.Add(new($"targeting[{i}].operator", $"Unknown operator '{rule.Operator}'; use {string.Join(", ", TargetingRule.Operators)}."));
            }
            else if (rule.Operator != "exists" && (rule.Values is null || rule.Values.Count == 0))
            {
                errors.Add(new($"targeting[{i}].values", $"The operator '{rule.Operator}' needs values."));
            }
        }

        return errors;
    }

    /// <summary>
    /// The first free slice of <paramref name="share"/> in a layer, given the slices of the layer's other experiments
    /// that are not stopped; null when it does not fit.
    /// </summary>
    public static double? FindLayerSlice(IEnumerable<Experiment> others, string layer, double share)
    {
        var taken = others.Where(e => e.Layer == layer && e.Status != ExperimentStatus.Stopped)
            .Select(e => (Start: e.LayerOffset, End: e.LayerOffset + e.LayerShare)).OrderBy(s => s.Start).ToList();
        var start = 0.0;
        foreach (var (s, e) in taken)
        {
            if (s - start >= share - 1e-12)
            {
                return start;
            }

            start = Math.Max(start, e);
        }

        return 1 - start >= share - 1e-12 ? start : null;
    }

    private static readonly IReadOnlyDictionary<string, string> Empty = new Dictionary<string, string>();
}
