using Ranking.Data;
using Ranking.Domain;

namespace Ranking.Tests.Evaluation;

/// <summary>Small logs built by hand for evaluation and generator tests.</summary>
internal static class EvaluationTestLogs
{
    public static byte Code(string type) => EventTypeRegistry.Default.TryGetCode(type, out var c) ? c : throw new ArgumentException(type);

    /// <summary>Builds a log from (user, item or null, type, minute) rows, catalog items i0..i{items-1} first.</summary>
    public static InteractionLog Build(int items, params (string User, string? Item, string Type, int Minute)[] rows)
    {
        var builder = new InteractionLogBuilder(EventTypeRegistry.Default);
        for (var i = 0; i < items; i++)
        {
            builder.AddItem(new Item { Id = $"i{i}", Title = $"Item {i}", Category = i % 2 == 0 ? "A/Even" : "A/Odd" });
        }

        var start = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();
        foreach (var (user, item, type, minute) in rows)
        {
            builder.Add(user, item, Code(type), start + (minute * 60_000L));
        }

        return builder.Build();
    }

    public static int ItemIndex(InteractionLog log, string id) => log.TryGetItemIndex(id, out var i) ? i : throw new ArgumentException(id);

    public static int UserIndex(InteractionLog log, string id) => log.TryGetUserIndex(id, out var u) ? u : throw new ArgumentException(id);
}
