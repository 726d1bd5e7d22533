using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Assistant.Plugins.Grammar;
using Assistant.Plugins.Llm;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;

namespace Assistant.Plugins.Shopping;

/// <summary>What one grounded call to the model gave: the parsed document, or why there is none.</summary>
internal readonly record struct GroundedAnswer<T>(T? Value, string? Failure)
    where T : class
{
    public static GroundedAnswer<T> Failed(string reason) => new(null, reason);
}

/// <summary>
/// One request of a plugin to the model for a JSON document of a fixed schema: the allowed values of its id, category and
/// brand fields are the retrieved candidates (a grammar for the local model, a schema for a remote one), the call is cut
/// at the time budget, and every failure (offline, timeout, unusable output, any exception of the client) is returned
/// as a reason so that the plugin falls back to its statistics or template. The caller's own cancellation propagates.
/// </summary>
internal sealed class GroundedJsonCall(IChatClient chat, TimeProvider time, LlmOptions? llm, ILogger logger, string plugin)
{
    /// <summary>The budget when no <see cref="LlmOptions"/> are given: the configuration's default.</summary>
    private static readonly int DefaultBudgetMs = new LlmOptions().TimeBudgetMs;

    /// <summary>Whether there is no model at all: the plugin then goes straight to its deterministic path.</summary>
    public bool IsOffline => OfflineChatClient.IsOffline(chat);

    /// <param name="allowed">The grounding values by instance path (<see cref="JsonGrammarOptions.AllowedValues"/>).</param>
    public async Task<GroundedAnswer<T>> AskAsync<T>(
        string prompt, JsonElement schema, IReadOnlyDictionary<string, IReadOnlyCollection<string>> allowed, CancellationToken cancellationToken)
        where T : class
    {
        if (IsOffline)
        {
            // Not a degradation: offline is configured, so no warning either.
            return GroundedAnswer<T>.Failed("no language model is configured (offline mode)");
        }

        foreach (var (path, values) in allowed)
        {
            if (values.Count == 0)
            {
                return Fail<T>($"the language model was not asked: there were no candidates for {path}");
            }
        }

        var budgetMs = llm?.TimeBudgetMs ?? DefaultBudgetMs;
        var options = new ChatOptions
        {
            ResponseFormat = ChatResponseFormat.ForJsonSchema(schema, typeof(T).Name),
            AdditionalProperties = new AdditionalPropertiesDictionary
            {
                [LocalLlamaChatClient.GrammarOptionsKey] = new JsonGrammarOptions
                {
                    AllowedValues = allowed,
                    MaxStringLength = llm?.JsonMaxStringLength ?? JsonGrammarOptions.Default.MaxStringLength,
                    MaxArrayItems = llm?.JsonMaxArrayItems ?? JsonGrammarOptions.Default.MaxArrayItems,
                },
                [LocalLlamaChatClient.TimeBudgetKey] = budgetMs,
            },
        };

        using var budget = budgetMs > 0 ? new CancellationTokenSource(TimeSpan.FromMilliseconds(budgetMs), time) : new CancellationTokenSource();
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, budget.Token);
        try
        {
            var response = await chat.GetResponseAsync([new ChatMessage(ChatRole.User, prompt)], options, linked.Token).ConfigureAwait(false);
            if (response.AdditionalProperties?.TryGetValue(LlmResponseProperties.Generated, out var generated) == true && generated is false)
            {
                return Fail<T>("the chat client returned placeholder text, not generated text");
            }

            var json = JsonObjectOf(response.Text) ?? throw new LlmOutputException("The reply holds no JSON object.", response.Text ?? "");
            var value = JsonSerializer.Deserialize<T>(json, JsonSchemaGrammar.SerializerOptions)
                ?? throw new LlmOutputException("The reply is the JSON null.", json);
            return new GroundedAnswer<T>(value, null);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return Fail<T>($"the language model ran past the time budget of {budgetMs} ms");
        }
        catch (TimeoutException)
        {
            return Fail<T>($"the language model ran past the time budget of {budgetMs} ms");
        }
        catch (LlmOutputException e)
        {
            return Fail<T>("the language model wrote unusable output: " + e.Message);
        }
        catch (JsonException e)
        {
            return Fail<T>("the language model wrote JSON that does not fit the schema: " + e.Message);
        }
#pragma warning disable CA1031 // a failing model degrades the answer to the template; it never breaks the plugin
        catch (Exception e) when (e is not OperationCanceledException)
#pragma warning restore CA1031
        {
            return Fail<T>($"the language model call failed ({e.GetType().Name}: {e.Message})");
        }
    }

    private GroundedAnswer<T> Fail<T>(string reason)
        where T : class
    {
        ShoppingLog.FellBack(logger, plugin, reason);
        return GroundedAnswer<T>.Failed(reason);
    }

    /// <summary>The outermost JSON object of a reply: remote models sometimes wrap it in a code fence or a sentence.</summary>
    private static string? JsonObjectOf(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        var start = text.IndexOf('{', StringComparison.Ordinal);
        var end = text.LastIndexOf('}');
        return start >= 0 && end > start ? text[start..(end + 1)] : null;
    }
}

/// <summary>The schema of a model-facing record with extra bounds the record type cannot state (non-empty lists and strings).</summary>
internal static class ResponseSchema
{
    /// <param name="bounds">JSON Pointer into the schema (<c>/properties/interests</c>), keyword, value.</param>
    /// <exception cref="ArgumentException">A pointer names nothing in the schema.</exception>
    public static JsonElement Of<T>(params (string Pointer, string Keyword, int Value)[] bounds)
    {
        var root = JsonNode.Parse(JsonSchemaGrammar.SchemaOf<T>().GetRawText())!;
        foreach (var (pointer, keyword, value) in bounds)
        {
            var node = root;
            foreach (var segment in pointer.Split('/', StringSplitOptions.RemoveEmptyEntries))
            {
                node = node.AsObject()[segment] ?? throw new ArgumentException($"The schema of {typeof(T).Name} has nothing at '{pointer}'.", nameof(bounds));
            }

            node.AsObject()[keyword] = value;
        }

        using var document = JsonDocument.Parse(root.ToJsonString());
        return document.RootElement.Clone();
    }
}

/// <summary>
/// Renders a prompt template (<c>{{$name}}</c> variables, Semantic Kernel's syntax) in one pass, so that a value that
/// itself contains <c>{{$name}}</c> is never expanded; and makes catalog and user text safe to place between the
/// <c>&lt;&lt;&lt;name ... name&gt;&gt;&gt;</c> data markers.
/// </summary>
internal static partial class PromptText
{
    /// <summary>Renders the template.</summary>
    /// <exception cref="InvalidOperationException">The template names a variable that has no value (a template bug).</exception>
    public static string Render(string template, IReadOnlyDictionary<string, string> values)
    {
        ArgumentNullException.ThrowIfNull(template);
        return Variable().Replace(template, m => values.TryGetValue(m.Groups["name"].Value, out var value)
            ? value
            : throw new InvalidOperationException($"The prompt template uses {{{{${m.Groups["name"].Value}}}}}, which has no value."));
    }

    /// <summary>
    /// Catalog or user text as data: control characters become spaces, marker-like runs of angle brackets are broken up
    /// so that the text cannot close its data block, and it is cut to <paramref name="maxLength"/> characters.
    /// </summary>
    public static string Data(string? text, int maxLength)
    {
        if (string.IsNullOrEmpty(text))
        {
            return "";
        }

        var clean = new StringBuilder(Math.Min(text.Length, maxLength + 1));
        foreach (var c in text)
        {
            if (clean.Length > maxLength)
            {
                break;
            }

            clean.Append(char.IsControl(c) ? ' ' : c is '<' ? '‹' : c is '>' ? '›' : c);
        }

        var result = clean.ToString().Trim();
        return result.Length > maxLength ? result[..maxLength].TrimEnd() + "…" : result;
    }

    /// <summary>A date as the prompts show it.</summary>
    public static string Day(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    [GeneratedRegex(@"\{\{\s*\$(?<name>[A-Za-z_][A-Za-z0-9_]*)\s*\}\}", RegexOptions.CultureInvariant)]
    private static partial Regex Variable();
}

/// <summary>
/// The check of generated text before anyone sees it: sentences that carry instructions to the reader ("ignore your
/// instructions", "system prompt", data markers), links, or a price that is not a catalog price are dropped; control
/// characters go; the rest is cut to a length at a word boundary.
/// </summary>
internal static partial class CopyGuard
{
    /// <param name="allowedPrices">Prices the text may state (the catalog's); empty: no price at all.</param>
    /// <param name="dropped">How many sentences were dropped.</param>
    public static string Clean(string? text, int maxLength, IReadOnlyCollection<double> allowedPrices, out int dropped)
    {
        dropped = 0;
        if (string.IsNullOrWhiteSpace(text))
        {
            return "";
        }

        var lines = new List<string>();
        foreach (var rawLine in text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n'))
        {
            var line = new string([.. rawLine.Select(c => char.IsControl(c) ? ' ' : c)]);
            var kept = new List<string>();
            foreach (var sentence in SentenceBreak().Split(line))
            {
                if (sentence.Length == 0)
                {
                    continue;
                }

                if (IsUnsafe(sentence, allowedPrices))
                {
                    dropped++;
                    continue;
                }

                kept.Add(sentence.Trim());
            }

            lines.Add(string.Join(' ', kept.Where(s => s.Length > 0)));
        }

        var joined = ExtraBlankLines().Replace(string.Join('\n', lines).Trim(), "\n\n");
        return Cut(joined, maxLength);
    }

    /// <summary>Whether the text holds an instruction-like phrase, a data marker or a link.</summary>
    public static bool HasInjection(string text) => Injection().IsMatch(text);

    /// <summary>The prices the text states (a currency sign or word next to a number, or a number with two decimals).</summary>
    public static IReadOnlyList<double> PricesIn(string text)
    {
        var prices = new List<double>();
        foreach (Match m in Price().Matches(text))
        {
            var digits = m.Groups["n"].Value.Replace(",", "", StringComparison.Ordinal);
            if (double.TryParse(digits, NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
            {
                prices.Add(value);
            }
        }

        return prices;
    }

    /// <summary>A price as the plugins print it (the catalog's rounding to cents).</summary>
    public static string FormatPrice(double price) => price.ToString("0.00", CultureInfo.InvariantCulture);

    private static bool IsUnsafe(string sentence, IReadOnlyCollection<double> allowedPrices) =>
        HasInjection(sentence) || PricesIn(sentence).Any(p => !allowedPrices.Any(a => Math.Abs(a - p) < 0.005));

    private static string Cut(string text, int maxLength)
    {
        if (text.Length <= maxLength)
        {
            return text;
        }

        var space = text.LastIndexOf(' ', maxLength - 1);
        var end = space > maxLength / 2 ? space : maxLength - 1;
        return text[..end].TrimEnd(' ', ',', ';', ':') + "…";
    }

    [GeneratedRegex(
        @"\b(ignore|disregard|forget|override)\b[^.!?\n]{0,40}\b(instructions?|prompts?|rules|guidelines)\b|system\s+prompt|developer\s+mode|jailbreak|<<<|>>>|https?://|\bwww\.",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex Injection();

    [GeneratedRegex(
        @"[$€£¥₽]\s*(?<n>\d[\d,]*(?:\.\d+)?)|(?<n>\d[\d,]*(?:\.\d+)?)\s*(?:[$€£¥₽]|(?:usd|eur|gbp|rub|dollars?|euros?|pounds?|roubles?|rubles?)\b)|\b(?<n>\d+\.\d{2})\b",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex Price();

    [GeneratedRegex(@"(?<=[.!?])\s+")]
    private static partial Regex SentenceBreak();

    [GeneratedRegex(@"\n{3,}")]
    private static partial Regex ExtraBlankLines();
}

/// <summary>The log lines of the shopping plugins: one per degradation.</summary>
internal static partial class ShoppingLog
{
    [LoggerMessage(EventId = 4300, Level = LogLevel.Warning, Message = "{Plugin}: {Reason}; using the deterministic answer")]
    public static partial void FellBack(ILogger logger, string plugin, string reason);
}
