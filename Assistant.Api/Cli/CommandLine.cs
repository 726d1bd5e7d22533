namespace Assistant.Api.Cli;

/// <summary>
/// Splits the command line into a verb with its own arguments and the rest, which goes to ASP.NET Core
/// configuration (<c>--Storage:Provider=PostgreSql</c>, <c>--urls</c>...).
/// </summary>
internal sealed record CommandLine(string? Verb, IReadOnlyList<string> Positional, IReadOnlyDictionary<string, string?> Options, string[] ConfigurationArgs)
{
    public static readonly IReadOnlySet<string> Verbs = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { "import", "eval", "train" };

    // Options the verbs own; a switch has no value.
    private static readonly IReadOnlySet<string> Switches = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { "skip-bad", "help", "full" };
    private static readonly IReadOnlySet<string> Valued = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { "format", "data-root", "seed", "scale", "max-errors", "models", "split", "max-users", "resamples", "out" };

    public static CommandLine Parse(string[] args)
    {
        if (args.Length == 0 || !Verbs.Contains(args[0]))
        {
            return new CommandLine(null, [], new Dictionary<string, string?>(), args);
        }

        var positional = new List<string>();
        var options = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        var rest = new List<string>();
        for (var i = 1; i < args.Length; i++)
        {
            var a = args[i];
            if (!a.StartsWith("--", StringComparison.Ordinal))
            {
                positional.Add(a);
                continue;
            }

            var name = a[2..];
            string? inline = null;
            var eq = name.IndexOf('=');
            if (eq >= 0)
            {
                inline = name[(eq + 1)..];
                name = name[..eq];
            }

            if (Switches.Contains(name))
            {
                options[name] = inline ?? "true";
            }
            else if (Valued.Contains(name))
            {
                options[name] = inline ?? (i + 1 < args.Length ? args[++i] : null);
            }
            else
            {
                // Configuration: "--Key=Value" or "--Key Value".
                rest.Add(a);
                if (inline is null && i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal))
                {
                    rest.Add(args[++i]);
                }
            }
        }

        return new CommandLine(args[0].ToLowerInvariant(), positional, options, [.. rest]);
    }

    public bool Has(string option) => Options.TryGetValue(option, out var v) && !string.Equals(v, "false", StringComparison.OrdinalIgnoreCase);

    public string? Get(string option) => Options.TryGetValue(option, out var v) ? v : null;
}
