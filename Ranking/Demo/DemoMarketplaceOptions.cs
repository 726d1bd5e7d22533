using Ranking.Domain;

namespace Ranking.Demo;

/// <summary>The size and seed of the demo marketplace. The same options always give the same records.</summary>
/// <remarks>
/// With the defaults the world has 2,000 users, 3,000 items and about 309,000 events over 400 days, generated in
/// well under a second. <see cref="Scale"/> multiplies users and items, and the event count grows with the users:
/// <c>Scale = 33</c> gives about 10.3 million events (docs/DEMO.md has the measured numbers).
/// </remarks>
public sealed record DemoMarketplaceOptions
{
    /// <summary>The fewest days of history: the CRM campaign needs weeks of history before and after its send.</summary>
    public const int MinDays = 60;

    /// <summary>Seed of every random stream of the world (.NET's seeded <see cref="Random"/>).</summary>
    public int Seed { get; init; } = 42;

    /// <summary>Users before <see cref="Scale"/>.</summary>
    public int Users { get; init; } = 2000;

    /// <summary>Items before <see cref="Scale"/>.</summary>
    public int Items { get; init; } = 3000;

    /// <summary>Days of event history, ending at <see cref="EndDate"/>.</summary>
    public int Days { get; init; } = 400;

    /// <summary>
    /// The end of the history (exclusive): no record is later. Fixed, not "now", so the output is the same on
    /// every run and never lies in the future.
    /// </summary>
    public DateTimeOffset EndDate { get; init; } = new(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Multiplies <see cref="Users"/> and <see cref="Items"/> (and so the events); fractions are allowed.</summary>
    public double Scale { get; init; } = 1.0;

    /// <summary>Records per <see cref="Import.ImportChunk"/>.</summary>
    public int ChunkSize { get; init; } = 10_000;

    /// <summary><see cref="Users"/> times <see cref="Scale"/>, rounded, at least 1.</summary>
    public int UserCount => Math.Max(1, (int)Math.Round(Users * Scale));

    /// <summary><see cref="Items"/> times <see cref="Scale"/>, rounded, at least 1.</summary>
    public int ItemCount => Math.Max(1, (int)Math.Round(Items * Scale));

    /// <summary>The start of the history: <see cref="EndDate"/> minus <see cref="Days"/>.</summary>
    public DateTimeOffset StartDate => EndDate.ToUniversalTime().AddDays(-Days);

    /// <summary>Throws when an option is out of range.</summary>
    /// <exception cref="ArgumentException">
    /// Non-positive users, items, days, chunk size or scale; a non-finite scale; fewer than <see cref="MinDays"/>
    /// days; more than 100 million users or items after scaling; an end date so early that the history (and the
    /// catalog created up to three years before it) would start before 1990.
    /// </exception>
    public void Validate()
    {
        if (Users <= 0)
        {
            throw new ArgumentException($"Users must be positive; it was {Users}.", nameof(Users));
        }

        if (Items <= 0)
        {
            throw new ArgumentException($"Items must be positive; it was {Items}.", nameof(Items));
        }

        if (Days <= 0)
        {
            throw new ArgumentException($"Days must be positive; it was {Days}.", nameof(Days));
        }

        if (Days < MinDays)
        {
            throw new ArgumentException($"Days must be at least {MinDays} (the CRM campaign needs history around it); it was {Days}.", nameof(Days));
        }

        if (ChunkSize <= 0)
        {
            throw new ArgumentException($"ChunkSize must be positive; it was {ChunkSize}.", nameof(ChunkSize));
        }

        if (!double.IsFinite(Scale) || Scale <= 0)
        {
            throw new ArgumentException($"Scale must be a positive finite number; it was {Scale}.", nameof(Scale));
        }

        if (Users * Scale > 100_000_000 || Items * Scale > 100_000_000)
        {
            throw new ArgumentException(
                $"Users x Scale and Items x Scale must stay under 100 million; they were {Users * Scale:0} and {Items * Scale:0}.", nameof(Scale));
        }

        if (StartDate.AddYears(-3) < RecordValidator.MinTimestamp)
        {
            throw new ArgumentException(
                $"EndDate {EndDate:O} minus {Days} days (and three years of older catalog) falls before {RecordValidator.MinTimestamp:yyyy-MM-dd}.",
                nameof(EndDate));
        }
    }
}
