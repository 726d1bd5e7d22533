namespace Assistant.Plugins.Prompts;

/// <summary>
/// The prompt templates of the LLM tasks: one file per task in the <c>prompts/</c> folder, never strings in C#.
/// A template is read when asked for, so an edited file takes effect without a rebuild.
/// </summary>
public sealed class PromptLibrary
{
    public const string FileExtension = ".txt";

    public PromptLibrary(string directory)
    {
        if (!System.IO.Directory.Exists(directory))
        {
            throw new DirectoryNotFoundException($"The prompts folder '{directory}' does not exist.");
        }

        Directory = Path.GetFullPath(directory);
    }

    public string Directory { get; }

    /// <summary>The task names there are templates for, sorted.</summary>
    public IReadOnlyList<string> Names =>
        [.. System.IO.Directory.GetFiles(Directory, "*" + FileExtension).Select(Path.GetFileNameWithoutExtension).OfType<string>().Order(StringComparer.Ordinal)];

    /// <summary>The template text of a task.</summary>
    /// <exception cref="ArgumentException">The name is empty or reaches outside the folder.</exception>
    /// <exception cref="FileNotFoundException">There is no template for the task; the message lists those there are.</exception>
    public async Task<string> GetAsync(string name, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrWhiteSpace(name) || name.IndexOfAny(['/', '\\']) >= 0 || name.Contains("..", StringComparison.Ordinal))
        {
            throw new ArgumentException($"'{name}' is not a prompt name.", nameof(name));
        }

        var path = Path.Combine(Directory, name + FileExtension);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"No prompt '{name}' in {Directory}; there are: {string.Join(", ", Names)}.", path);
        }

        return await File.ReadAllTextAsync(path, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Finds <c>prompts/</c> beside the application or in a folder above it (the repository root when run from source).</summary>
    public static string? Locate(string? start = null)
    {
        for (var dir = new DirectoryInfo(start ?? AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "prompts");
            if (System.IO.Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }
}
