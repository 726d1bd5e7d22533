using Ranking.Domain;
using Ranking.Import.Datasets;
using Xunit.Abstractions;

namespace Ranking.Tests.Datasets;

public sealed class HillstromSourceTests(ITestOutputHelper output)
{
    [SkippableFact]
    public async Task ReadAsync_SharedFile_MatchesSourceCounts()
    {
        var source = new HillstromSource(DatasetTestData.RequireFolder(DatasetCatalog.Hillstrom));

        var contents = await SourceContents.ReadAsync(source);

        output.WriteLine($"Hillstrom: {contents.Sends.Count:N0} customers read in {contents.Elapsed.TotalMilliseconds:N0} ms");
        Assert.Empty(contents.Errors);
        var campaign = Assert.Single(contents.Campaigns);
        Assert.Equal(HillstromSource.CampaignId, campaign.Id);
        Assert.Equal(CrmChannels.Email, campaign.Channel);
        Assert.Equal(64_000, contents.Users.Count);
        Assert.Equal(64_000, contents.Sends.Count);
        Assert.Equal(21_307, contents.Sends.Count(s => s.Value.Variant == HillstromSource.MensEmail));
        Assert.Equal(21_387, contents.Sends.Count(s => s.Value.Variant == HillstromSource.WomensEmail));
        Assert.Equal(21_306, contents.Sends.Count(s => s.Value.Variant == HillstromSource.NoEmail));
        Assert.Equal(21_307 + 21_387, contents.Sends.Count(s => s.Value.IsTreatment));
        Assert.All(contents.Sends, s => Assert.Equal(s.Value.Variant != HillstromSource.NoEmail, s.Value.IsTreatment));
        // Outcome counts as the file has them (SOURCE.md gives only the spend sum).
        Assert.Equal(9_394, contents.Outcomes.Count(o => o.Value.Type == CrmOutcomeTypes.Visit));
        var conversions = contents.Outcomes.Where(o => o.Value.Type == HillstromSource.ConversionOutcome).ToList();
        Assert.Equal(578, conversions.Count);
        Assert.Equal(67_258.13, conversions.Sum(o => o.Value.Value ?? 0), 0.01);
        Assert.All(contents.Users, u => Assert.True(u.Value.HasConsent(CrmChannels.Email)));
        Assert.Equal(64_000, SourceContents.CountDistinct(contents.Sends.Select(s => s.Value.SendId)));
        Assert.Empty(contents.ValidationFailures());
    }

    [SkippableFact]
    public async Task ReadAsync_FirstCustomer_MapsAttributesSendAndTimes()
    {
        var source = new HillstromSource(DatasetTestData.RequireFolder(DatasetCatalog.Hillstrom));

        var contents = await SourceContents.ReadAsync(source);

        var (line, user) = contents.Users[0];
        Assert.Equal(2, line);
        Assert.Equal("hill-1", user.Id);
        Assert.Equal("10", user.Attributes["recency"]);
        Assert.Equal("2) $100 - $200", user.Attributes["history_segment"]);
        Assert.Equal("142.44", user.Attributes["history"]);
        Assert.Equal("Surburban", user.Attributes["zip_code"]);
        Assert.Equal("Phone", user.Attributes["channel"]);
        Assert.Equal(8, user.Attributes.Count);
        var send = contents.Sends[0].Value;
        Assert.Equal(("hill-1", "hill-1", HillstromSource.CampaignId), (send.SendId, send.UserId, send.CampaignId));
        Assert.True(send.IsTreatment);
        Assert.Equal(HillstromSource.WomensEmail, send.Variant);
        Assert.Equal(new DateTimeOffset(2008, 3, 1, 0, 0, 0, TimeSpan.Zero), send.SentAt);
        Assert.All(contents.Outcomes, o => Assert.Equal(send.SentAt.AddDays(1), o.Value.Timestamp));
        Assert.All(contents.Outcomes, o => Assert.Equal($"hill-{o.Line - 1}", o.Value.SendId));
    }

    [SkippableFact]
    public async Task ReadAsync_SharedFileTwice_YieldsSameRows()
    {
        var source = new HillstromSource(DatasetTestData.RequireFolder(DatasetCatalog.Hillstrom));

        var first = await SourceContents.ReadAsync(source);
        var second = await SourceContents.ReadAsync(source);

        Assert.Equal(first.Digest, second.Digest);
    }

    [Fact]
    public async Task ReadAsync_BadRows_ReportedAndSkippedWhole()
    {
        using var temp = DatasetTestData.CreateTempFolder();
        temp.Write(HillstromSource.FileName,
            "recency,history_segment,history,mens,womens,zip_code,newbie,channel,segment,visit,conversion,spend\n"
            + "10,2) $100 - $200,142.44,1,0,Surburban,0,Phone,Womens E-Mail,1,1,29.99\n"
            + "6,3) $200 - $350,329.08,1,1,Rural,1,Web,SMS,0,0,0\n"
            + "7,2) $100 - $200,180.65,0,1,Surburban,1,Web,No E-Mail,2,0,0\n"
            + "9,5) $500 - $750,675.83,1,0,Rural,1,Web,Mens E-Mail,1,0,0");

        var contents = await SourceContents.ReadAsync(new HillstromSource(temp.Path));

        Assert.Equal(["3:segment", "4:visit"], contents.Errors.Select(e => $"{e.Line}:{e.Field}"));
        Assert.Equal(["hill-1", "hill-4"], contents.Users.Select(u => u.Value.Id));
        Assert.Equal(["hill-1", "hill-4"], contents.Sends.Select(s => s.Value.SendId));
        Assert.Equal(["hill-1:visit", "hill-1:conversion", "hill-4:visit"], contents.Outcomes.Select(o => $"{o.Value.SendId}:{o.Value.Type}"));
        Assert.Equal(29.99, contents.Outcomes[1].Value.Value);
        Assert.Null(contents.Outcomes[0].Value.Value);
    }
}
