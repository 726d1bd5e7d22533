using System.Diagnostics;
using System.Globalization;
using System.Text;
using Ranking.Domain;
using Ranking.Import;
using Ranking.Import.Datasets;

namespace Ranking.Tests.Datasets;

/// <summary>Where the shared data sets are for these tests: skipped when absent locally, a failure when CI is set.</summary>
internal static class DatasetTestData
{
    /// <summary>The folder of one data set (see <see cref="DatasetCatalog.FolderOf"/>), or a skip.</summary>
    public static string RequireFolder(string name)
    {
        var root = DatasetLocator.Root;
        var folder = root is null ? null : Path.Combine(root, DatasetCatalog.FolderOf(name));
        var present = folder is not null && Directory.Exists(folder);
        var onCi = Environment.GetEnvironmentVariable("CI") is not null;
        Skip.If(!present && !onCi,
            $"The data set '{name}' is not here (data root: {root ?? "not found"}); set {DatasetLocator.EnvironmentVariable} to the shared/data folder to run this test.");
        Assert.True(present,
            $"CI is set but the data set '{name}' was not found (data root: {root ?? "not found"}). " +
            $"Set {DatasetLocator.EnvironmentVariable} to the folder that holds the shared data sets.");
        return folder!;
    }

    /// <summary>A fresh folder under the temp directory, deleted on dispose.</summary>
    public static TempFolder CreateTempFolder() => new();

    public sealed class TempFolder : IDisposable
    {
        public TempFolder()
        {
            Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "assistant-datasets-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(Path);
        }

        public string Path { get; }

        public string Write(string fileName, string text, Encoding? encoding = null)
        {
            var path = System.IO.Path.Combine(Path, fileName);
            File.WriteAllText(path, text, encoding ?? new UTF8Encoding(false));
            return path;
        }

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}

/// <summary>Everything a source yielded in one read, and facts about its chunks.</summary>
internal sealed class SourceContents
{
    public List<CrmCampaign> Campaigns { get; } = [];

    public List<Row<Item>> Items { get; } = [];

    public List<Row<User>> Users { get; } = [];

    public List<Row<UserEvent>> Events { get; } = [];

    public List<Row<CrmSend>> Sends { get; } = [];

    public List<Row<CrmOutcome>> Outcomes { get; } = [];

    public List<RowError> Errors { get; } = [];

    public int Chunks { get; private set; }

    public int LargestChunk { get; private set; }

    /// <summary>True when an item or user came in a chunk after one that held events.</summary>
    public bool CatalogAfterEvents { get; private set; }

    /// <summary>An order-sensitive hash of every row (line and all fields), to compare two reads.</summary>
    public ulong Digest { get; private set; }

    public TimeSpan Elapsed { get; private set; }

    public static async Task<SourceContents> ReadAsync(IImportSource source)
    {
        var contents = new SourceContents();
        var clock = Stopwatch.StartNew();
        var sawEvents = false;
        await foreach (var chunk in source.ReadAsync())
        {
            contents.Chunks++;
            contents.LargestChunk = Math.Max(contents.LargestChunk, chunk.RecordCount + chunk.Errors.Count);
            if (sawEvents && (chunk.Items.Count > 0 || chunk.Users.Count > 0))
            {
                contents.CatalogAfterEvents = true;
            }

            sawEvents |= chunk.Events.Count > 0;
            contents.Campaigns.AddRange(chunk.Campaigns);
            contents.Items.AddRange(chunk.Items);
            contents.Users.AddRange(chunk.Users);
            contents.Events.AddRange(chunk.Events);
            contents.Sends.AddRange(chunk.Sends);
            contents.Outcomes.AddRange(chunk.Outcomes);
            contents.Errors.AddRange(chunk.Errors);
        }

        contents.Elapsed = clock.Elapsed;
        contents.Digest = contents.ComputeDigest();
        return contents;
    }

    /// <summary>The validator's complaints about every record, "kind line: field: message", at most 20.</summary>
    public List<string> ValidationFailures()
    {
        var validator = new RecordValidator(EventTypeRegistry.Default);
        var failures = new List<string>();
        var scratch = new List<FieldError>();
        void Check<T>(string kind, List<Row<T>> rows, Action<T, List<FieldError>> validate)
        {
            foreach (var row in rows)
            {
                scratch.Clear();
                validate(row.Value, scratch);
                foreach (var e in scratch)
                {
                    if (failures.Count < 20)
                    {
                        failures.Add($"{kind} {row.Line}: {e.Field}: {e.Message}");
                    }
                }
            }
        }

        Check("item", Items, validator.Validate);
        Check("user", Users, validator.Validate);
        Check("event", Events, validator.Validate);
        Check("send", Sends, validator.Validate);
        Check("outcome", Outcomes, validator.Validate);
        return failures;
    }

    public static int CountDistinct<T>(IEnumerable<T> values) => new HashSet<T>(values).Count;

    private ulong ComputeDigest()
    {
        var hash = 14695981039346656037UL;
        void Add(string text)
        {
            foreach (var c in text)
            {
                hash = (hash ^ c) * 1099511628211UL;
            }

            hash = (hash ^ '\n') * 1099511628211UL;
        }

        foreach (var c in Campaigns)
        {
            Add(c.ToString());
        }

        foreach (var (line, item) in Items)
        {
            Add(string.Create(CultureInfo.InvariantCulture,
                $"{line}|{item.Id}|{item.Title}|{item.Category}|{item.Brand}|{item.Price:R}|{item.Cost:R}|{Pairs(item.Attributes)}"));
        }

        foreach (var (line, user) in Users)
        {
            Add(string.Create(CultureInfo.InvariantCulture, $"{line}|{user.Id}|{Pairs(user.Attributes)}|{Pairs(user.Consent)}"));
        }

        foreach (var row in Events)
        {
            Add(row.ToString());
        }

        foreach (var row in Sends)
        {
            Add(row.ToString());
        }

        foreach (var row in Outcomes)
        {
            Add(row.ToString());
        }

        foreach (var e in Errors)
        {
            Add(e.ToString());
        }

        return hash;
    }

    private static string Pairs<TValue>(IReadOnlyDictionary<string, TValue> map)
    {
        var keys = new List<string>(map.Keys);
        keys.Sort(StringComparer.Ordinal);
        var sb = new StringBuilder();
        foreach (var k in keys)
        {
            sb.Append(k).Append('=').Append(map[k]).Append(';');
        }

        return sb.ToString();
    }
}
