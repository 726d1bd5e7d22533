namespace Ranking.Import.Datasets;

/// <summary>
/// Finds the folder of shared data sets (<c>shared/data</c>, kept outside the repository because several data sets
/// forbid redistribution).
/// </summary>
public static class DatasetLocator
{
    /// <summary>Overrides the search: the data root, used as it is.</summary>
    public const string EnvironmentVariable = "ASSISTANT_DATA_DIR";

    /// <summary>
    /// The data root: <see cref="EnvironmentVariable"/> when it is set (even if that folder does not exist, so that a
    /// wrong setting surfaces as a missing folder rather than silently finding another one); otherwise the first
    /// <c>shared/data</c> folder beside an ancestor of <see cref="AppContext.BaseDirectory"/> or of the current
    /// directory (a repository at <c>X/main</c> finds <c>X/shared/data</c>); null when there is none.
    /// </summary>
    public static string? Root =>
        Find(Environment.GetEnvironmentVariable(EnvironmentVariable), [AppContext.BaseDirectory, Environment.CurrentDirectory]);

    /// <summary>The search behind <see cref="Root"/>, with its inputs passed in.</summary>
    internal static string? Find(string? overrideRoot, IReadOnlyList<string> startDirectories)
    {
        if (!string.IsNullOrWhiteSpace(overrideRoot))
        {
            return Path.GetFullPath(overrideRoot);
        }

        foreach (var start in startDirectories)
        {
            if (string.IsNullOrWhiteSpace(start))
            {
                continue;
            }

            for (var dir = new DirectoryInfo(Path.GetFullPath(start)); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "shared", "data");
                if (Directory.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        return null;
    }
}
