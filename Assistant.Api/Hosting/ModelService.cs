using System.Collections.Concurrent;
using System.Globalization;
using Assistant.Api.Storage;
using Microsoft.Extensions.Options;
using Ranking.Candidates;
using Ranking.Data;
using Ranking.Domain;
using Ranking.Fusion;
using Ranking.Search;
using Ranking.Sequential;
using Ranking.Serving;

namespace Assistant.Api.Hosting;

/// <summary>A loaded model version with its pipeline and catalog search.</summary>
public sealed class ServingBundle(
    ServingModels models, Recommender recommender, HybridSearch? search, IDisposable? encoder, IDisposable? transformerSession = null) : IDisposable
{
    public ServingModels Models { get; } = models;

    public Recommender Recommender { get; } = recommender;

    /// <summary>Keyword (and, with text embeddings, vector) search over the catalog; null without a keyword index.</summary>
    public HybridSearch? Search { get; } = search;

    public void Dispose()
    {
        Models.Dispose();
        encoder?.Dispose();
        transformerSession?.Dispose();
    }
}

/// <summary>State of a training job.</summary>
public enum TrainingState
{
    Running,
    Succeeded,
    Failed,
}

/// <summary>A background training run and its progress.</summary>
public sealed class TrainingJob
{
    private readonly ConcurrentQueue<string> _progress = new();

    public required string Id { get; init; }

    public DateTimeOffset StartedAt { get; init; }

    public TrainingState State { get; internal set; } = TrainingState.Running;

    public DateTimeOffset? FinishedAt { get; internal set; }

    /// <summary>The version written, once succeeded.</summary>
    public string? Version { get; internal set; }

    /// <summary>Why it failed.</summary>
    public string? Error { get; internal set; }

    /// <summary>What the run reported so far, oldest first.</summary>
    public IReadOnlyList<string> Progress => [.. _progress];

    internal void Report(string line) => _progress.Enqueue(line);
}

/// <summary>
/// The model lifecycle of the host: the versioned artifact repository, the version being served (hot-swapped without
/// dropping requests), training on first start, and background training jobs (one at a time).
/// </summary>
public sealed partial class ModelService : IDisposable, Ranking.Crm.IRecommenderSource, Assistant.Plugins.Shopping.IServingContext
{
    private readonly ServingOptions _options;
    private readonly IMarketplaceStore _store;
    private readonly EventTypeRegistry _eventTypes;
    private readonly ILogger<ModelService> _logger;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, TrainingJob> _jobs = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _training = new(1, 1);
    private TrainingJob? _running;

    public ModelService(
        IOptions<ServingOptions> options, IOptions<StorageOptions> storage, IMarketplaceStore store, EventTypeRegistry eventTypes,
        ILogger<ModelService> logger, TimeProvider time)
    {
        _options = options.Value;
        _store = store;
        _eventTypes = eventTypes;
        _logger = logger;
        _time = time;
        var folder = _options.ModelsDirectory ?? Path.Combine(storage.Value.DataDirectory, "models");
        Repository = new ModelRepository(Path.GetFullPath(folder));
        Host = new ModelHost<ServingBundle>(Repository, Load, line => LogHost(_logger, line));
    }

    public ModelRepository Repository { get; }

    public ModelHost<ServingBundle> Host { get; }

    public ServingOptions Options => _options;

    /// <summary>The running job, if any.</summary>
    public TrainingJob? Running => Volatile.Read(ref _running);

    /// <summary>Loads the newest valid version; with none and <see cref="ServingOptions.TrainOnStart"/>, trains the quick
    /// configuration first (so every surface answers on a fresh machine).</summary>
    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        var result = Host.Reload(cancellationToken);
        foreach (var refused in result.Refused)
        {
            LogRefused(_logger, refused.Version, refused.Reason);
        }

        if (Host.Current is not null)
        {
            LogServing(_logger, result.Version ?? "?");
            return;
        }

        if (!_options.TrainOnStart)
        {
            LogNoModels(_logger, Repository.Root);
            return;
        }

        if (await _store.CountEventsAsync(cancellationToken).ConfigureAwait(false) == 0)
        {
            LogNoEvents(_logger);
            return;
        }

        var job = TryStart(out _);
        await RunAsync(job!, quick: true, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Starts a background training job, or returns the running one with <paramref name="alreadyRunning"/> set.</summary>
    public TrainingJob StartBackground(bool quick, out bool alreadyRunning)
    {
        var job = TryStart(out alreadyRunning);
        if (alreadyRunning)
        {
            return job!;
        }

        _ = Task.Run(() => RunAsync(job!, quick, CancellationToken.None));
        return job!;
    }

    /// <summary>Trains synchronously (the <c>train</c> verb) and reloads; returns the job with its outcome.</summary>
    public async Task<(TrainingJob Job, ServingTrainingResult? Result)> TrainAsync(bool quick, Action<string>? progress, CancellationToken cancellationToken)
    {
        var job = TryStart(out var running) ?? throw new InvalidOperationException("A training job is already running.");
        if (running)
        {
            throw new InvalidOperationException($"Training job {job.Id} is already running.");
        }

        var result = await RunAsync(job, quick, cancellationToken, progress).ConfigureAwait(false);
        return (job, result);
    }

    public TrainingJob? GetJob(string id) => _jobs.GetValueOrDefault(id);

    /// <inheritdoc/>
    public Ranking.Crm.RecommenderLease? Acquire() =>
        Host.TryAcquire(out var lease) ? new Ranking.Crm.RecommenderLease(lease.Bundle.Recommender, lease.Manifest.Version, lease) : null;

    /// <inheritdoc/>
    Assistant.Plugins.Shopping.ServingLease? Assistant.Plugins.Shopping.IServingContext.Acquire() =>
        Host.TryAcquire(out var lease)
            ? new Assistant.Plugins.Shopping.ServingLease(lease.Bundle.Recommender, lease.Bundle.Search, lease.Manifest.Version, lease)
            : null;

    /// <summary>Reloads the newest valid version (a corrupt newer one is refused and the current one kept).</summary>
    public ReloadResult Reload(CancellationToken cancellationToken = default)
    {
        var result = Host.Reload(cancellationToken);
        foreach (var refused in result.Refused)
        {
            LogRefused(_logger, refused.Version, refused.Reason);
        }

        return result;
    }

    public void Dispose()
    {
        Host.Dispose();
        _training.Dispose();
    }

    private TrainingJob? TryStart(out bool alreadyRunning)
    {
        if (!_training.Wait(0))
        {
            alreadyRunning = true;
            return Running;
        }

        alreadyRunning = false;
        var job = new TrainingJob
        {
            Id = _time.GetUtcNow().ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture) + "-" + Guid.NewGuid().ToString("N")[..6],
            StartedAt = _time.GetUtcNow(),
        };
        _jobs[job.Id] = job;
        Volatile.Write(ref _running, job);
        return job;
    }

    private async Task<ServingTrainingResult?> RunAsync(TrainingJob job, bool quick, CancellationToken cancellationToken, Action<string>? progress = null)
    {
        try
        {
            void Report(string line)
            {
                job.Report(line);
                progress?.Invoke(line);
                LogProgress(_logger, job.Id, line);
            }

            Report("Reading events and catalog from the store");
            var log = await InteractionLog.BuildAsync(_store, _store, _eventTypes, cancellationToken).ConfigureAwait(false);
            var options = TrainingOptions(quick);
            // MiniLM for content similarity, and for the transformer's search tokens and query contexts.
            using var encoder = options.Content || options.Transformer is not null ? new MiniLmTextEncoder() : null;
            var result = await Task.Run(
                () => ServingTrainer.Train(log, options, encoder, new SyncProgress(Report), cancellationToken), cancellationToken).ConfigureAwait(false);
            var parameters = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["profile"] = quick ? "quick" : "full",
                ["fusionSliceDays"] = options.FusionSliceDays.ToString(CultureInfo.InvariantCulture),
                ["als"] = $"factors {options.Als.Factors}, iterations {options.Als.Iterations}, alpha {options.Als.Alpha}, lambda {options.Als.Regularization}",
                ["fusion"] = options.Fusion.ToString(),
                ["content"] = options.Content ? "minilm" : "off",
                ["transformer"] = options.Transformer is { } t ? $"{t.Layers} layers, width {t.Width}, {t.Epochs} epochs" : "off",
                ["store"] = _store.Kind,
            };
            var manifest = ServingArtifacts.Save(Repository, result, ServingArtifacts.Snapshot(log, _store.Kind), parameters);
            result.Models.Dispose();
            Report($"Wrote version {manifest.Version}");
            var pruned = Repository.Prune(_options.KeepVersions);
            if (pruned > 0)
            {
                Report($"Pruned {pruned} old version(s)");
            }

            var reload = Reload(cancellationToken);
            Report($"Reload: {reload.Status}, serving {reload.Version}");
            job.Version = manifest.Version;
            job.State = TrainingState.Succeeded;
            return result;
        }
#pragma warning disable CA1031 // a failed training run is reported on its job; the serving version stays
        catch (Exception ex)
#pragma warning restore CA1031
        {
            job.Error = ex.Message;
            job.State = TrainingState.Failed;
            LogTrainingFailed(_logger, ex, job.Id);
            return null;
        }
        finally
        {
            job.FinishedAt = _time.GetUtcNow();
            Volatile.Write(ref _running, null);
            _training.Release();
        }
    }

    private ServingTrainingOptions TrainingOptions(bool quick)
    {
        var baseline = quick ? ServingTrainingOptions.Quick : new ServingTrainingOptions();
        return baseline with
        {
            FusionSliceDays = _options.FusionSliceDays,
            Content = _options.Content,
            Transformer = _options.Transformer
                ? new SequentialOptions
                {
                    Epochs = _options.TransformerEpochs, Width = 64, MaxLength = 50, Patience = 3,
                    UseActionTypes = true, UseTimeGaps = true, UseSurfaces = true, UseContext = true, UseSearchQueries = true,
                }
                : null,
        };
    }

    private ServingBundle Load(ModelRepository repository, ModelManifest manifest, CancellationToken cancellationToken)
    {
        var models = ServingArtifacts.Load(repository, manifest);
        OnnxSequentialScorer? onnx = null;
        if (models.Transformer is { } model && _options.TransformerOnnx)
        {
            try
            {
                onnx = new OnnxSequentialScorer(model, new OnnxScorerOptions { UseCuda = _options.TransformerCuda }, line => LogDegraded(_logger, manifest.Version, line));
            }
#pragma warning disable CA1031 // without ONNX Runtime the transformer runs on the C# forward pass
            catch (Exception ex)
#pragma warning restore CA1031
            {
                LogDegraded(_logger, manifest.Version, $"transformer: ONNX Runtime session failed ({ex.Message}); states come from the C# forward pass");
            }
        }

        var recommender = new Recommender(models, new RecommenderOptions
        {
            MarginWeight = _options.MarginWeight,
            DiscoveryShare = _options.DiscoveryShare,
            ValueExponent = _options.ValueExponent,
        }, line => LogDegraded(_logger, manifest.Version, line), onnx);
        MiniLmTextEncoder? encoder = null;
        var transformerReadsQueries = models.Transformer is { } t && (t.Options.UseSearchQueries || t.Options.UseContext);
        if (models.Content is not null || transformerReadsQueries)
        {
            try
            {
                encoder = new MiniLmTextEncoder();
            }
#pragma warning disable CA1031 // without the encoder search is keyword-only
            catch (Exception ex)
#pragma warning restore CA1031
            {
                LogDegraded(_logger, manifest.Version, $"text encoder: failed ({ex.Message}); search is keyword-only");
            }
        }

        if (transformerReadsQueries && encoder is not null)
        {
            try
            {
                // The transformer was trained on this encoder's query vectors (the quick and full configurations use MiniLM).
                models.Transformer!.AttachQueryEncoder(encoder);
            }
            catch (ArgumentException ex)
            {
                LogDegraded(_logger, manifest.Version, $"transformer: queries left out ({ex.Message})");
            }
        }

        var search = models.Keywords is { } keywords ? new HybridSearch(keywords, models.Content, encoder) : null;
        return new ServingBundle(models, recommender, search, encoder, onnx);
    }

    private sealed class SyncProgress(Action<string> report) : IProgress<string>
    {
        public void Report(string value) => report(value);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Models: {Line}")]
    private static partial void LogHost(ILogger logger, string line);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Model version {Version} refused: {Reason}")]
    private static partial void LogRefused(ILogger logger, string version, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Serving model version {Version}")]
    private static partial void LogServing(ILogger logger, string version);

    [LoggerMessage(Level = LogLevel.Warning, Message = "No model version in {Folder} and Serving:TrainOnStart is off: surfaces answer from the catalog only")]
    private static partial void LogNoModels(ILogger logger, string folder);

    [LoggerMessage(Level = LogLevel.Warning, Message = "No events in the store: nothing to train; surfaces answer from the catalog only")]
    private static partial void LogNoEvents(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "Training {Job}: {Line}")]
    private static partial void LogProgress(ILogger logger, string job, string line);

    [LoggerMessage(Level = LogLevel.Error, Message = "Training {Job} failed; the serving version is kept")]
    private static partial void LogTrainingFailed(ILogger logger, Exception exception, string job);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Serving {Version} degraded: {Line}")]
    private static partial void LogDegraded(ILogger logger, string version, string line);
}
