using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Assistant.Plugins.Grammar;
using LLama;
using LLama.Common;
using LLama.Native;
using LLama.Sampling;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Assistant.Plugins.Llm;

/// <summary>
/// A GGUF model run in-process on the CPU through LLamaSharp, behind <see cref="IChatClient"/>: prompts written with
/// the model's own chat template, history trimmed to the context, JSON response formats and tool calls forced by a
/// GBNF grammar (<see cref="JsonSchemaGrammar"/>).
/// </summary>
/// <remarks>
/// <para><b>Concurrency.</b> The weights are loaded once and shared. Each request gets a fresh llama.cpp context (so no
/// state leaks from one conversation into another), and requests run one at a time behind a semaphore: on a CPU the
/// cores are the bottleneck, so parallel contexts would only split them while each holding its own KV cache, and
/// LLamaSharp's <see cref="StatelessExecutor"/> reuses one batch between calls. Waiting for the semaphore counts against
/// <see cref="LlmOptions.TimeBudgetMs"/> (or the request's <see cref="TimeBudgetKey"/>).</para>
/// <para><b>Output.</b> A <see cref="ChatResponseFormatJson"/> makes the grammar admit only documents valid for its
/// schema (any JSON object when it has none); the output is parsed before it is returned, and JSON cut off by the token
/// allowance throws <see cref="LlmOutputException"/>. Tools make each turn <c>{"tool": name, "arguments": {...}}</c>,
/// returned as a <see cref="FunctionCallContent"/>, or <c>{"answer": ...}</c>, returned as text; a required tool mode
/// leaves out the answer. After <see cref="LlmOptions.MaxToolRounds"/> rounds of calls since the last user message the
/// tools are withheld so that the model answers. A caller may pass <see cref="JsonGrammarOptions"/> (grounding values,
/// bounds) under <see cref="GrammarOptionsKey"/> in <see cref="ChatOptions.AdditionalProperties"/>.</para>
/// <para>Every response carries <see cref="LlmResponseProperties.Generated"/> = true and
/// <see cref="LlmResponseProperties.DroppedMessages"/>.</para>
/// </remarks>
public sealed class LocalLlamaChatClient : IChatClient
{
    /// <summary>The <see cref="ChatOptions.AdditionalProperties"/> key for a <see cref="JsonGrammarOptions"/> to write grammars with.</summary>
    public const string GrammarOptionsKey = "grammarOptions";

    /// <summary>
    /// The <see cref="ChatOptions.AdditionalProperties"/> key for this request's time budget in milliseconds (an
    /// <see cref="int"/>; 0 for none), instead of <see cref="LlmOptions.TimeBudgetMs"/>.
    /// </summary>
    public const string TimeBudgetKey = "timeBudgetMs";

    private const string ProviderName = "llama.cpp";

    /// <summary>LLamaSharp's own top-p and top-k, used when a request does not set them.</summary>
    private static readonly (float TopP, int TopK) SamplingDefaults = ReadSamplingDefaults();

    /// <summary>Compact JSON for tool calls and results in the prompt (the shared AI options indent, which costs tokens).</summary>
    private static readonly JsonSerializerOptions PromptJson = new(AIJsonUtilities.DefaultOptions) { WriteIndented = false };

    private static NativeLogConfig.LLamaLogCallback? _nativeLogCallback;

    private readonly LlmOptions _options;
    private readonly LLamaWeights _weights;
    private readonly StatelessExecutor _executor;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly ChatPromptFormat _format;
    private readonly ChatClientMetadata _metadata;
    private readonly ILogger _logger;
    private long _responses;
    private int _disposed;

    /// <summary>Loads the model at <see cref="LlmOptions.ModelPath"/> (whatever <see cref="LlmOptions.Provider"/> says).</summary>
    /// <exception cref="InvalidOperationException">The options are not usable for a local model, e.g. the file does not exist.</exception>
    public LocalLlamaChatClient(LlmOptions options, ILogger<LocalLlamaChatClient>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = Copy(options);
        _options.EnsureValid();
        _logger = (ILogger?)logger ?? NullLogger.Instance;

        // llama.cpp writes hundreds of lines to stderr while loading; only its warnings and errors reach the log. The
        // setting is process-wide, so the last client created wins; the static field keeps the delegate alive for as
        // long as native code may call it.
        var nativeLogger = _logger;
        _nativeLogCallback = (level, message) =>
        {
            if (level is LLamaLogLevel.Warning or LLamaLogLevel.Error && !string.IsNullOrWhiteSpace(message))
            {
                LlmLog.Native(nativeLogger, level == LLamaLogLevel.Error ? LogLevel.Error : LogLevel.Warning, message.TrimEnd());
            }
        };
        NativeLogConfig.llama_log_set(_nativeLogCallback);

        var clock = Stopwatch.StartNew();
        var path = Path.GetFullPath(_options.ModelPath!);
        var parameters = new ModelParams(path)
        {
            ContextSize = (uint)_options.ContextSize,
            GpuLayerCount = 0,
            Threads = _options.Threads,
        };
        _weights = LLamaWeights.LoadFromFile(parameters);
        try
        {
            _executor = new StatelessExecutor(_weights, parameters, _logger);
            _format = ChatPromptFormat.For(_weights, out var templateProblem);
            if (templateProblem is not null)
            {
                LlmLog.TemplateNotApplicable(_logger, templateProblem);
            }
        }
        catch
        {
            _weights.Dispose();
            throw;
        }

        LoadTime = clock.Elapsed;
        _metadata = new ChatClientMetadata(ProviderName, new Uri(path), Path.GetFileNameWithoutExtension(path));
        LlmLog.ModelLoaded(_logger, path, LoadTime.TotalMilliseconds, _options.ContextSize, _format.Description);
    }

    /// <summary>How long loading the model took.</summary>
    public TimeSpan LoadTime { get; }

    /// <summary>Whether prompts use the chat template from the model's metadata (else a plain User:/Assistant: transcript).</summary>
    public bool UsesModelChatTemplate => _format.UsesModelTemplate;

    /// <inheritdoc />
    public Task<ChatResponse> GetResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        CompleteAsync(Prepare(messages, options), cancellationToken);

    /// <inheritdoc />
    /// <remarks>
    /// Text is streamed token by token (a JSON response format too, checked once complete). A turn that may call tools is
    /// generated whole and then returned as updates, since a call can be acted on only once its arguments are complete.
    /// </remarks>
    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var request = Prepare(messages, options);
        if (request.Plan.Shape == OutputShape.ToolTurn)
        {
            var whole = await CompleteAsync(request, cancellationToken).ConfigureAwait(false);
            foreach (var update in whole.ToChatResponseUpdates())
            {
                yield return update;
            }

            yield break;
        }

        using var budget = new TimeBudget(request.TimeBudget, cancellationToken);
        var run = new GenerationRun(request.MaxOutputTokens);
        var responseId = NextResponseId();
        var json = request.Plan.Shape == OutputShape.Json ? new StringBuilder() : null;
        await foreach (var piece in GenerateAsync(request, run, budget).ConfigureAwait(false))
        {
            json?.Append(piece);
            yield return new ChatResponseUpdate(ChatRole.Assistant, piece)
            {
                ResponseId = responseId,
                MessageId = responseId,
                ModelId = _metadata.DefaultModelId,
                CreatedAt = DateTimeOffset.UtcNow,
            };
        }

        var contents = json is null ? [] : ReadOutput(request, run, json.ToString());
        yield return new ChatResponseUpdate(ChatRole.Assistant, [new UsageContent(Usage(request, run))])
        {
            ResponseId = responseId,
            MessageId = responseId,
            ModelId = _metadata.DefaultModelId,
            CreatedAt = DateTimeOffset.UtcNow,
            FinishReason = FinishReason(run, contents),
            AdditionalProperties = Properties(request),
        };
    }

    private async Task<ChatResponse> CompleteAsync(PreparedRequest request, CancellationToken cancellationToken)
    {
        using var budget = new TimeBudget(request.TimeBudget, cancellationToken);
        var run = new GenerationRun(request.MaxOutputTokens);
        var text = new StringBuilder();
        await foreach (var piece in GenerateAsync(request, run, budget).ConfigureAwait(false))
        {
            text.Append(piece);
        }

        var contents = ReadOutput(request, run, text.ToString().TrimEnd());
        var responseId = NextResponseId();
        var message = new ChatMessage(ChatRole.Assistant, contents) { MessageId = responseId };
        return new ChatResponse(message)
        {
            ResponseId = responseId,
            ModelId = _metadata.DefaultModelId,
            CreatedAt = DateTimeOffset.UtcNow,
            FinishReason = FinishReason(run, contents),
            Usage = Usage(request, run),
            AdditionalProperties = Properties(request),
        };
    }

    /// <inheritdoc />
    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey is not null)
        {
            return null;
        }

        return serviceType == typeof(ChatClientMetadata) ? _metadata
            : serviceType.IsInstanceOfType(this) ? this
            : null;
    }

    /// <summary>Frees the model once the running request, if any, has finished.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        // Freeing the weights under a running generation would crash in native code; an abandoned stream that never
        // releases the gate is waited for only so long.
        var entered = _gate.Wait(TimeSpan.FromSeconds(30));
        _weights.Dispose();
        if (entered)
        {
            _gate.Release();
        }
    }

    private async IAsyncEnumerable<string> GenerateAsync(PreparedRequest request, GenerationRun run, TimeBudget budget)
    {
        try
        {
            await _gate.WaitAsync(budget.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (budget.Expired)
        {
            LlmLog.TimeBudgetExceeded(_logger, budget.LimitMs, 0);
            throw budget.Timeout("Waiting for the local model");
        }

        try
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
            using var sampling = new DefaultSamplingPipeline
            {
                Temperature = request.Temperature,
                Seed = request.Seed,
                TopP = request.TopP ?? SamplingDefaults.TopP,
                TopK = request.TopK ?? SamplingDefaults.TopK,
                Grammar = request.Plan.Gbnf is { } gbnf ? new LLama.Sampling.Grammar(gbnf, "root") : null,
            };
            var inference = new InferenceParams { MaxTokens = request.MaxOutputTokens, SamplingPipeline = sampling };
            var filter = new StopSequenceFilter(request.StopSequences);
            var clock = Stopwatch.StartNew();
            var tokens = _executor.InferAsync(request.Prompt.Text, inference, budget.Token).GetAsyncEnumerator(budget.Token);
            await using (tokens.ConfigureAwait(false))
            {
                while (true)
                {
                    bool more;
                    try
                    {
                        more = await tokens.MoveNextAsync().ConfigureAwait(false);
                    }
                    catch (OperationCanceledException) when (budget.Expired)
                    {
                        LlmLog.TimeBudgetExceeded(_logger, budget.LimitMs, run.OutputTokens);
                        throw budget.Timeout("Generating the answer");
                    }

                    if (!more)
                    {
                        // The executor ends quietly when its token is cancelled.
                        if (budget.Expired)
                        {
                            LlmLog.TimeBudgetExceeded(_logger, budget.LimitMs, run.OutputTokens);
                        }

                        budget.ThrowIfEnded("Generating the answer");
                        break;
                    }

                    run.OutputTokens++;
                    var emit = filter.Push(tokens.Current);
                    if (emit.Length > 0)
                    {
                        yield return emit;
                    }

                    if (filter.Stopped)
                    {
                        run.StoppedBySequence = true;
                        break;
                    }
                }
            }

            var rest = filter.Flush();
            if (rest.Length > 0)
            {
                yield return rest;
            }

            run.Elapsed = clock.Elapsed;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The prompt text a request would be sent as, after templating and trimming to the context (for tests).</summary>
    internal string RenderPrompt(IEnumerable<ChatMessage> messages, ChatOptions? options = null) => Prepare(messages, options).Prompt.Text;

    private PreparedRequest Prepare(IEnumerable<ChatMessage> messages, ChatOptions? options)
    {
        ArgumentNullException.ThrowIfNull(messages);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var list = messages as IReadOnlyList<ChatMessage> ?? messages.ToList();
        if (list.Count == 0)
        {
            throw new ArgumentException("At least one message is needed.", nameof(messages));
        }

        var maxOutput = options?.MaxOutputTokens ?? _options.MaxOutputTokens;
        if (maxOutput < 1 || maxOutput >= _options.ContextSize)
        {
            throw new ArgumentOutOfRangeException(nameof(options), maxOutput,
                $"MaxOutputTokens must be between 1 and {_options.ContextSize - 1} ({LlmOptions.SectionName}:ContextSize less one).");
        }

        var plan = GenerationPlan.For(list, options, _options);
        if (plan.ToolRoundsExhausted)
        {
            LlmLog.ToolRoundsExhausted(_logger, _options.MaxToolRounds);
        }

        var conversation = PromptTurns(list, out var systemText);
        var system = string.Join("\n\n", new[] { systemText, plan.Instructions }.Where(t => !string.IsNullOrWhiteSpace(t)));
        var prompt = ContextWindow.Fit(
            _format, system.Length > 0 ? new PromptTurn(PromptTurn.System, system) : null, conversation, _options.ContextSize - maxOutput);
        if (prompt.DroppedMessages > 0)
        {
            LlmLog.MessagesDropped(_logger, prompt.DroppedMessages, conversation.Count, prompt.TokenCount, maxOutput, _options.ContextSize);
        }

        var budgetMs = options?.AdditionalProperties?.TryGetValue(TimeBudgetKey, out var given) == true && given is int ms ? ms : _options.TimeBudgetMs;
        IReadOnlyList<string> stops = plan.Shape == OutputShape.Text
            ? [.. _format.StopSequences, .. options?.StopSequences ?? []]
            : [];
        return new PreparedRequest(
            plan,
            prompt,
            maxOutput,
            stops,
            options?.Temperature ?? _options.Temperature,
            unchecked((uint)(options?.Seed ?? _options.Seed)),
            options?.TopP,
            options?.TopK,
            budgetMs > 0 ? TimeSpan.FromMilliseconds(budgetMs) : null);
    }

    /// <summary>
    /// The conversation as prompt turns, with the system messages joined into one text: assistant tool calls as the JSON
    /// the model writes for them, tool results as user turns naming the tool.
    /// </summary>
    private static List<PromptTurn> PromptTurns(IReadOnlyList<ChatMessage> messages, out string? systemText)
    {
        var system = new StringBuilder();
        var turns = new List<PromptTurn>(messages.Count);
        var toolNames = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var message in messages)
        {
            if (message.Role == ChatRole.System)
            {
                if (!string.IsNullOrWhiteSpace(message.Text))
                {
                    system.Append(system.Length > 0 ? "\n\n" : "").Append(message.Text.Trim());
                }

                continue;
            }

            var results = message.Contents.OfType<FunctionResultContent>().ToList();
            if (results.Count > 0)
            {
                foreach (var result in results)
                {
                    var name = toolNames.GetValueOrDefault(result.CallId, "the tool");
                    turns.Add(new PromptTurn(PromptTurn.User, $"Result of {name}: {ResultText(result)}", IsToolResult: true));
                }

                continue;
            }

            if (message.Role == ChatRole.Assistant)
            {
                var calls = message.Contents.OfType<FunctionCallContent>().ToList();
                foreach (var call in calls)
                {
                    toolNames[call.CallId] = call.Name;
                }

                var content = calls.Count > 0 ? string.Join("\n", calls.Select(CallText)) : message.Text;
                turns.Add(new PromptTurn(PromptTurn.Assistant, content));
                continue;
            }

            turns.Add(new PromptTurn(PromptTurn.User, message.Text));
        }

        systemText = system.Length > 0 ? system.ToString() : null;
        return turns;
    }

    private static string CallText(FunctionCallContent call)
    {
        var arguments = call.Arguments is null ? "{}" : JsonSerializer.Serialize(call.Arguments, PromptJson);
        return $"{{\"tool\": {JsonSerializer.Serialize(call.Name, PromptJson)}, \"arguments\": {arguments}}}";
    }

    private static string ResultText(FunctionResultContent result) => result.Result switch
    {
        _ when result.Exception is { } e => "error: " + e.Message,
        null => "null",
        string s => s,
        JsonElement element => element.GetRawText(),
        var value => JsonSerializer.Serialize(value, value.GetType(), PromptJson),
    };

    private IList<AIContent> ReadOutput(PreparedRequest request, GenerationRun run, string text)
    {
        try
        {
            return request.Plan.ReadOutput(text, run.FinishNote);
        }
        catch (LlmOutputException e)
        {
            LlmLog.OutputUnusable(_logger, run.OutputTokens, run.MaxOutputTokens, e);
            throw;
        }
    }

    private static ChatFinishReason FinishReason(GenerationRun run, IList<AIContent> contents) =>
        contents.Any(c => c is FunctionCallContent) ? ChatFinishReason.ToolCalls
        : run.HitLimit ? ChatFinishReason.Length
        : ChatFinishReason.Stop;

    private static UsageDetails Usage(PreparedRequest request, GenerationRun run) => new()
    {
        InputTokenCount = request.Prompt.TokenCount,
        OutputTokenCount = run.OutputTokens,
        TotalTokenCount = request.Prompt.TokenCount + run.OutputTokens,
    };

    private AdditionalPropertiesDictionary Properties(PreparedRequest request) => new()
    {
        [LlmResponseProperties.Generated] = true,
        [LlmResponseProperties.DroppedMessages] = request.Prompt.DroppedMessages,
        [LlmResponseProperties.PromptFormat] = _format.Description,
    };

    private string NextResponseId() => "llama-" + Interlocked.Increment(ref _responses).ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static LlmOptions Copy(LlmOptions options) => new()
    {
        Provider = LlmProvider.Local,
        ModelPath = options.ModelPath,
        ContextSize = options.ContextSize,
        MaxOutputTokens = options.MaxOutputTokens,
        Threads = options.Threads,
        Temperature = options.Temperature,
        Seed = options.Seed,
        TimeBudgetMs = options.TimeBudgetMs,
        MaxToolRounds = options.MaxToolRounds,
        JsonMaxStringLength = options.JsonMaxStringLength,
        JsonMaxArrayItems = options.JsonMaxArrayItems,
    };

    private static (float TopP, int TopK) ReadSamplingDefaults()
    {
        using var pipeline = new DefaultSamplingPipeline();
        return (pipeline.TopP, pipeline.TopK);
    }

    private sealed record PreparedRequest(
        GenerationPlan Plan,
        FittedPrompt Prompt,
        int MaxOutputTokens,
        IReadOnlyList<string> StopSequences,
        float Temperature,
        uint Seed,
        float? TopP,
        int? TopK,
        TimeSpan? TimeBudget);

    /// <summary>What one generation did, filled in as it runs.</summary>
    private sealed class GenerationRun(int maxOutputTokens)
    {
        public int MaxOutputTokens { get; } = maxOutputTokens;

        public int OutputTokens { get; set; }

        public bool StoppedBySequence { get; set; }

        public TimeSpan Elapsed { get; set; }

        public bool HitLimit => !StoppedBySequence && OutputTokens >= MaxOutputTokens;

        public string FinishNote => HitLimit
            ? $"stopped at the allowance of {MaxOutputTokens} tokens"
            : $"{OutputTokens} tokens written";
    }
}
