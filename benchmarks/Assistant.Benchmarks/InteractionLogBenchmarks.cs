using BenchmarkDotNet.Attributes;
using Ranking.Data;
using Ranking.Domain;

namespace Assistant.Benchmarks;

/// <summary>Building the columnar log (stable sort by user, then time) from N rows.</summary>
[MemoryDiagnoser]
public class InteractionLogBenchmarks
{
    private (string User, string Item, byte Type, long Ts)[] _rows = [];

    [Params(100_000, 1_000_000)]
    public int Rows { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        const int seed = 42;
        Console.WriteLine($"seed {seed}");
        var random = new Random(seed);
        var users = Enumerable.Range(0, Rows / 50).Select(i => $"u{i}").ToArray();
        var items = Enumerable.Range(0, 20_000).Select(i => $"i{i}").ToArray();
        _rows = new (string, string, byte, long)[Rows];
        long t = 0;
        for (var i = 0; i < Rows; i++)
        {
            t += random.Next(0, 3);
            _rows[i] = (users[random.Next(users.Length)], items[random.Next(items.Length)], (byte)random.Next(3), t);
        }
    }

    [Benchmark]
    public int Build()
    {
        var builder = new InteractionLogBuilder(EventTypeRegistry.Default);
        foreach (var (user, item, type, ts) in _rows)
        {
            builder.Add(user, item, type, ts);
        }

        return builder.Build().Count;
    }
}
