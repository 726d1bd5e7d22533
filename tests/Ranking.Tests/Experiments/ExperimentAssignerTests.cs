using Ranking.Domain;
using Ranking.Experiments;

namespace Ranking.Tests.Experiments;

public sealed class ExperimentAssignerTests
{
    private static Experiment Running(string name, string layer = "default", double offset = 0, double share = 1, double coverage = 1, params (string Name, double Share)[] variants) => new()
    {
        Name = name,
        Salt = name + "-salt",
        Layer = layer,
        LayerOffset = offset,
        LayerShare = share,
        Coverage = coverage,
        Status = ExperimentStatus.Running,
        Variants = variants.Length == 0
            ? [new ExperimentVariant("control", 0.5), new ExperimentVariant("treatment", 0.5)]
            : [.. variants.Select(v => new ExperimentVariant(v.Name, v.Share))],
    };

    [Fact]
    public void Assign_OneMillionUsers_SharesWithinFourSigma()
    {
        var experiment = Running("shares", variants: [("a", 0.5), ("b", 0.3), ("c", 0.2)]);
        var assigner = new ExperimentAssigner();
        var counts = new Dictionary<string, int> { ["a"] = 0, ["b"] = 0, ["c"] = 0 };
        const int n = 1_000_000;

        for (var i = 0; i < n; i++)
        {
            counts[assigner.Assign(experiment, "u" + i).Variant!]++;
        }

        foreach (var (variant, share) in new[] { ("a", 0.5), ("b", 0.3), ("c", 0.2) })
        {
            var sigma = Math.Sqrt(n * share * (1 - share));
            Assert.True(Math.Abs(counts[variant] - (n * share)) < 4 * sigma, $"{variant}: {counts[variant]} vs {n * share} (sigma {sigma:0})");
        }
    }

    [Fact]
    public void Assign_TwoLayers_AreIndependent()
    {
        var first = Running("first", layer: "home");
        var second = Running("second", layer: "search");
        var assigner = new ExperimentAssigner();
        var cells = new int[2, 2];
        const int n = 200_000;

        for (var i = 0; i < n; i++)
        {
            var a = assigner.Assign(first, "u" + i).Variant == "treatment" ? 1 : 0;
            var b = assigner.Assign(second, "u" + i).Variant == "treatment" ? 1 : 0;
            cells[a, b]++;
        }

        // Chi-squared against independence with 1 degree of freedom: 10.83 is the 0.001 point.
        var chi2 = 0.0;
        for (var a = 0; a < 2; a++)
        {
            for (var b = 0; b < 2; b++)
            {
                double row = cells[a, 0] + cells[a, 1], col = cells[0, b] + cells[1, b];
                var expected = row * col / n;
                chi2 += Math.Pow(cells[a, b] - expected, 2) / expected;
            }
        }

        Assert.True(chi2 < 10.83, $"chi2 {chi2:0.00}");
    }

    [Fact]
    public void Assign_SameLayerSlices_NeverShareAUser()
    {
        var left = Running("left", layer: "home", offset: 0, share: 0.4);
        var right = Running("right", layer: "home", offset: 0.4, share: 0.6);
        var assigner = new ExperimentAssigner();
        int inLeft = 0, inRight = 0;
        const int n = 100_000;

        for (var i = 0; i < n; i++)
        {
            var l = assigner.Assign(left, "u" + i).InExperiment;
            var r = assigner.Assign(right, "u" + i).InExperiment;
            Assert.False(l && r);
            Assert.True(l || r);
            inLeft += l ? 1 : 0;
            inRight += r ? 1 : 0;
        }

        Assert.InRange(inLeft / (double)n, 0.39, 0.41);
        Assert.InRange(inRight / (double)n, 0.59, 0.61);
    }

    [Fact]
    public void Assign_CoverageGrows_UsersAlreadyInKeepTheirVariant()
    {
        var small = Running("grow", coverage: 0.2);
        var large = small with { Coverage = 0.6 };
        var assigner = new ExperimentAssigner();
        int before = 0, after = 0;

        for (var i = 0; i < 50_000; i++)
        {
            var a = assigner.Assign(small, "u" + i);
            var b = assigner.Assign(large, "u" + i);
            if (a.InExperiment)
            {
                before++;
                Assert.Equal(a.Variant, b.Variant);
            }

            after += b.InExperiment ? 1 : 0;
        }

        Assert.InRange(before / 50_000.0, 0.19, 0.21);
        Assert.InRange(after / 50_000.0, 0.59, 0.61);
    }

    [Fact]
    public void Assign_GlobalHoldout_IsExcludedEverywhere()
    {
        var assigner = new ExperimentAssigner(holdoutShare: 0.1, holdoutSalt: "h");
        var a = Running("a", layer: "x");
        var b = Running("b", layer: "y");
        var held = 0;

        for (var i = 0; i < 50_000; i++)
        {
            var ra = assigner.Assign(a, "u" + i);
            var rb = assigner.Assign(b, "u" + i);
            Assert.Equal(ra.Reason == AssignmentReason.Holdout, rb.Reason == AssignmentReason.Holdout);
            held += ra.Reason == AssignmentReason.Holdout ? 1 : 0;
        }

        Assert.InRange(held / 50_000.0, 0.09, 0.11);
    }

    [Fact]
    public void Assign_TargetingAndStatus_DecideEligibility()
    {
        var experiment = Running("target") with { Targeting = [new TargetingRule("region", "in", ["north"])] };
        var assigner = new ExperimentAssigner();
        var north = new Dictionary<string, string> { ["region"] = "north" };
        var south = new Dictionary<string, string> { ["region"] = "south" };

        Assert.True(assigner.Assign(experiment, "u1", north).InExperiment);
        Assert.Equal(AssignmentReason.NotTargeted, assigner.Assign(experiment, "u1", south).Reason);
        Assert.Equal(AssignmentReason.NotTargeted, assigner.Assign(experiment, "u1").Reason);
        Assert.Equal(AssignmentReason.NotRunning, assigner.Assign(experiment with { Status = ExperimentStatus.Stopped }, "u1", north).Reason);
    }

    [Fact]
    public void Assign_VariantParameters_ComeWithTheVariant()
    {
        var experiment = Running("params") with
        {
            Variants = [new ExperimentVariant("control", 0.5, new Dictionary<string, string> { ["marginWeight"] = "0" }),
                        new ExperimentVariant("treatment", 0.5, new Dictionary<string, string> { ["marginWeight"] = "0.3" })],
        };

        var a = new ExperimentAssigner().Assign(experiment, "user-1");

        Assert.Equal(a.Variant == "control" ? "0" : "0.3", a.Parameters["marginWeight"]);
    }

    [Fact]
    public void UserHash_IsDeterministicAndSaltSensitive()
    {
        Assert.Equal(UserHash.Hash64("variant", "s", "u1"), UserHash.Hash64("variant", "s", "u1"));
        Assert.NotEqual(UserHash.Hash64("variant", "s", "u1"), UserHash.Hash64("variant", "t", "u1"));
        Assert.NotEqual(UserHash.Hash64("variant", "s", "u1"), UserHash.Hash64("coverage", "s", "u1"));
        Assert.InRange(UserHash.Unit("variant", "s", "u1"), 0.0, 1.0);
    }

    [Theory]
    [InlineData(0.5, 0.4, "variants")]
    [InlineData(0.5, -0.5, "variants[1].share")]
    public void Validate_BadShares_NameTheField(double a, double b, string field)
    {
        var experiment = Running("bad") with { Variants = [new ExperimentVariant("a", a), new ExperimentVariant("b", b)] };

        var errors = ExperimentAssigner.Validate(experiment);

        Assert.Contains(errors, e => e.Field == field);
    }

    [Fact]
    public void Validate_OneVariantUnknownOperatorBadCoverage_AllReported()
    {
        var experiment = Running("bad") with
        {
            Variants = [new ExperimentVariant("only", 1)],
            Coverage = 1.5,
            Targeting = [new TargetingRule("region", "like", ["n%"])],
        };

        var fields = ExperimentAssigner.Validate(experiment).Select(e => e.Field).ToList();

        Assert.Contains("variants", fields);
        Assert.Contains("coverage", fields);
        Assert.Contains("targeting[0].operator", fields);
    }

    [Fact]
    public void FindLayerSlice_TakesTheFirstGapAndRefusesWhenFull()
    {
        Experiment[] others =
        [
            Running("a", layer: "home", offset: 0, share: 0.3),
            Running("b", layer: "home", offset: 0.5, share: 0.5),
            Running("c", layer: "home", offset: 0.3, share: 0.2) with { Status = ExperimentStatus.Stopped },
            Running("d", layer: "search", offset: 0, share: 1),
        ];

        Assert.Equal(0.3, ExperimentAssigner.FindLayerSlice(others, "home", 0.2)!.Value, 9);
        Assert.Null(ExperimentAssigner.FindLayerSlice(others, "home", 0.3));
        Assert.Equal(0.0, ExperimentAssigner.FindLayerSlice(others, "empty", 1.0));
    }
}
