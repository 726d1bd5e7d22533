using System.Globalization;
using Ranking.Data;
using Ranking.Serving;

namespace Ranking.Fusion;

/// <summary>Writes a training run into a versioned artifact folder and reads a version back into <see cref="ServingModels"/>.</summary>
public static class ServingArtifacts
{
    /// <summary>
    /// Saves the models of a run as a new version with its manifest (data snapshot, parameters, offline metrics, step
    /// times, file sizes and hashes); the version appears only once complete.
    /// </summary>
    public static ModelManifest Save(
        ModelRepository repository, ServingTrainingResult result, DataSnapshot snapshot, IReadOnlyDictionary<string, string> parameters)
    {
        ArgumentNullException.ThrowIfNull(repository);
        ArgumentNullException.ThrowIfNull(result);
        using var writer = repository.BeginVersion();
        result.Models.Save(writer.Create);
        return writer.Commit(new ModelManifest
        {
            Version = writer.Version,
            CreatedAt = DateTimeOffset.UtcNow,
            DataSnapshot = snapshot,
            Parameters = parameters,
            Metrics = result.Metrics.Where(m => double.IsFinite(m.Value)).ToDictionary(),
            Steps = [.. result.Steps.Select(s => new TrainingStep(s.Name, s.Seconds, s.Note))],
        });
    }

    /// <summary>Loads a validated version. Files the manifest does not list are treated as absent models.</summary>
    /// <exception cref="InvalidDataException">A required model is missing or a file is corrupt.</exception>
    public static ServingModels Load(ModelRepository repository, ModelManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(repository);
        ArgumentNullException.ThrowIfNull(manifest);
        var listed = manifest.Files.Select(f => f.Name).ToHashSet(StringComparer.Ordinal);
        return ServingModels.Load(name => listed.Contains(name) ? repository.OpenRead(manifest, name) : null, manifest.Version);
    }

    /// <summary>The data snapshot of a training log: counts, time range and a fingerprint of them.</summary>
    public static DataSnapshot Snapshot(InteractionLog log, string source)
    {
        ArgumentNullException.ThrowIfNull(log);
        DateTimeOffset? first = log.Count == 0 ? null : DateTimeOffset.FromUnixTimeMilliseconds(log.TimestampMs.Min());
        DateTimeOffset? last = log.Count == 0 ? null : DateTimeOffset.FromUnixTimeMilliseconds(log.TimestampMs.Max());
        var fingerprint = string.Create(
            CultureInfo.InvariantCulture, $"{log.Count}-{log.UserCount}-{log.ItemCount}-{first?.ToUnixTimeMilliseconds()}-{last?.ToUnixTimeMilliseconds()}");
        return new DataSnapshot(source, log.Count, log.UserCount, log.ItemCount, first, last, fingerprint);
    }
}
