using System.Collections.ObjectModel;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Ranking.Serving;

/// <summary>
/// What a model version was trained on. The caller computes <see cref="Fingerprint"/> (for example a hash
/// of the event log's size and last offset) so that two versions trained on the same data can be recognised.
/// </summary>
/// <param name="Source">Where the events came from (a table, a file, a data set name).</param>
/// <param name="Events">Number of events read.</param>
/// <param name="Users">Distinct users.</param>
/// <param name="Items">Distinct items.</param>
/// <param name="FirstEvent">Time of the oldest event; null for an empty snapshot.</param>
/// <param name="LastEvent">Time of the newest event; null for an empty snapshot.</param>
/// <param name="Fingerprint">Caller-defined identity of the data; may be empty.</param>
public sealed record DataSnapshot(
    string Source,
    long Events,
    int Users,
    int Items,
    DateTimeOffset? FirstEvent,
    DateTimeOffset? LastEvent,
    string Fingerprint);

/// <summary>One stage of the training run and how long it took.</summary>
/// <param name="Name">Stage name, e.g. "als" or "co-occurrence".</param>
/// <param name="Seconds">Wall-clock seconds.</param>
/// <param name="Note">Optional free text (seed, iterations, warnings).</param>
public sealed record TrainingStep(string Name, double Seconds, string? Note = null);

/// <summary>A file of a model version, with the size and hash checked before the version is served.</summary>
/// <param name="Name">Flat file name inside the version folder (no path separators, no "..").</param>
/// <param name="Bytes">File length in bytes.</param>
/// <param name="Sha256">Lower-case hexadecimal SHA-256 of the file's content (64 characters).</param>
public sealed record ManifestFile(string Name, long Bytes, string Sha256);

/// <summary>
/// The manifest.json of a model version folder: which data and parameters produced it, the offline metrics,
/// and the size and SHA-256 of every file. <see cref="ModelVersionWriter.Commit"/> fills
/// <see cref="Version"/>, <see cref="FormatVersion"/> and <see cref="Files"/>; the trainer supplies the rest.
/// </summary>
/// <remarks>
/// Record equality compares the dictionaries and lists by reference; compare their contents when that matters.
/// Metrics may hold NaN or infinities (an undefined metric); they are written as JSON strings ("NaN").
/// </remarks>
public sealed record ModelManifest
{
    /// <summary>The manifest layout this code reads and writes. A manifest with any other value is refused.</summary>
    public const int CurrentFormatVersion = 1;

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>Layout version of the manifest itself; <see cref="CurrentFormatVersion"/> for manifests written here.</summary>
    public int FormatVersion { get; init; } = CurrentFormatVersion;

    /// <summary>
    /// Version name, also the folder name: <c>yyyyMMdd-HHmmss-fff</c> (UTC) plus a suffix, so ordinal order is
    /// creation order. Empty until <see cref="ModelVersionWriter.Commit"/> sets it.
    /// </summary>
    public string Version { get; init; } = "";

    /// <summary>When training finished (or began, as the trainer chooses). Default means "set at commit".</summary>
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>The data the version was trained on.</summary>
    public required DataSnapshot DataSnapshot { get; init; }

    /// <summary>Training parameters as text (seed, factors, regularisation...). Keys are kept as written.</summary>
    public IReadOnlyDictionary<string, string> Parameters { get; init; } = ReadOnlyDictionary<string, string>.Empty;

    /// <summary>Offline evaluation metrics (e.g. "ndcg@10"). Keys are kept as written.</summary>
    public IReadOnlyDictionary<string, double> Metrics { get; init; } = ReadOnlyDictionary<string, double>.Empty;

    /// <summary>Training stages in the order they ran.</summary>
    public IReadOnlyList<TrainingStep> Steps { get; init; } = [];

    /// <summary>Every file of the version except manifest.json, ordered by name.</summary>
    public IReadOnlyList<ManifestFile> Files { get; init; } = [];

    /// <summary>
    /// Reads and validates a manifest.
    /// </summary>
    /// <exception cref="InvalidDataException">
    /// The JSON is malformed, the format version is missing or unknown, the version or data snapshot is missing,
    /// or a file entry is invalid (path separators, "..", negative size, bad hash, duplicate).
    /// </exception>
    public static ModelManifest Read(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ModelManifest? manifest;
        try
        {
            // The format version is checked before binding: a future layout may not bind to this record at all,
            // and "unknown format version 2" says more than a binding error.
            using var document = JsonDocument.Parse(stream);
            var rootElement = document.RootElement;
            if (rootElement.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidDataException("manifest is not a JSON object");
            }

            if (!rootElement.TryGetProperty("formatVersion", out var format) || !format.TryGetInt32(out var formatVersion))
            {
                throw new InvalidDataException("manifest has no formatVersion");
            }

            if (formatVersion != CurrentFormatVersion)
            {
                throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"unknown format version {formatVersion}"));
            }

            manifest = rootElement.Deserialize<ModelManifest>(JsonOptions);
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"manifest is not valid JSON: {ex.Message}", ex);
        }

        if (manifest is null)
        {
            throw new InvalidDataException("manifest is empty");
        }

        // JSON null for a collection binds to null despite the non-nullable declaration.
        manifest = manifest with
        {
            Parameters = manifest.Parameters ?? ReadOnlyDictionary<string, string>.Empty,
            Metrics = manifest.Metrics ?? ReadOnlyDictionary<string, double>.Empty,
            Steps = manifest.Steps ?? [],
            Files = manifest.Files ?? [],
        };

        var error = manifest.FindError();
        if (error is not null)
        {
            throw new InvalidDataException(error);
        }

        return manifest;
    }

    /// <summary>Writes the manifest as indented camelCase JSON (UTF-8). The stream is left open.</summary>
    /// <exception cref="InvalidOperationException">The manifest would not pass <see cref="Read"/>.</exception>
    public void Write(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var error = FindError();
        if (error is not null)
        {
            throw new InvalidOperationException($"cannot write an invalid manifest: {error}");
        }

        JsonSerializer.Serialize(stream, this, JsonOptions);
    }

    /// <summary>
    /// True when <paramref name="name"/> can name a file or version folder: not empty, no path separators,
    /// no "..", no control characters, and at most 255 characters.
    /// </summary>
    public static bool IsValidName(string? name)
    {
        if (string.IsNullOrWhiteSpace(name) || name.Length > 255 || name.Contains("..", StringComparison.Ordinal) || name == ".")
        {
            return false;
        }

        foreach (var c in name)
        {
            // Both separators are refused on every platform so that a version copied between systems means the same.
            if (c == '/' || c == '\\' || c == ':' || char.IsControl(c))
            {
                return false;
            }
        }

        return name.IndexOfAny(Path.GetInvalidFileNameChars()) < 0;
    }

    private string? FindError()
    {
        if (FormatVersion != CurrentFormatVersion)
        {
            return string.Create(CultureInfo.InvariantCulture, $"unknown format version {FormatVersion}");
        }

        if (string.IsNullOrEmpty(Version))
        {
            return "manifest has no version";
        }

        if (!IsValidName(Version))
        {
            return $"manifest version '{Version}' is not a valid folder name";
        }

        if (DataSnapshot is null)
        {
            return "manifest has no dataSnapshot";
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var file in Files)
        {
            if (file is null)
            {
                return "manifest lists a null file";
            }

            if (!IsValidName(file.Name))
            {
                return $"file name '{file.Name}' is not a flat name (path separators or '..' are not allowed)";
            }

            if (string.Equals(file.Name, ModelRepository.ManifestFileName, StringComparison.OrdinalIgnoreCase))
            {
                return $"file name '{file.Name}' is reserved";
            }

            if (!seen.Add(file.Name))
            {
                return $"file {file.Name}: listed twice";
            }

            if (file.Bytes < 0)
            {
                return $"file {file.Name}: negative size";
            }

            if (file.Sha256 is null || file.Sha256.Length != 64 || !IsLowerHex(file.Sha256))
            {
                return $"file {file.Name}: SHA-256 is not 64 lower-case hex digits";
            }
        }

        return null;
    }

    private static bool IsLowerHex(string s)
    {
        foreach (var c in s)
        {
            if (!char.IsAsciiHexDigitLower(c) && !char.IsAsciiDigit(c))
            {
                return false;
            }
        }

        return true;
    }
}
