using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Security.Cryptography;

namespace Ranking.Serving;

/// <summary>
/// Versioned model artifacts on disk: <c>&lt;root&gt;/&lt;version&gt;/</c> holds the files of one training run and a
/// manifest.json with their sizes and SHA-256 hashes. A version is written into a hidden staging folder and renamed
/// into place only after its manifest is on disk, so a reader never sees a half-written version.
/// </summary>
/// <remarks>
/// <para>Version names sort by creation time (ordinal order), so "newest" is the greatest name.</para>
/// <para>
/// Safe for concurrent use by several threads and processes sharing the folder: writers never share a folder, and
/// readers list only renamed folders. <see cref="Prune"/> may delete a version that another process is about to
/// open; the loader then fails and the host keeps what it has.
/// </para>
/// <para>
/// Validation hashes every file, so it costs one sequential read of the version; the host does it at start and on
/// reload, not per request.
/// </para>
/// </remarks>
/// <param name="root">The models folder. Created on the first <see cref="BeginVersion"/>; a missing folder lists no versions.</param>
public sealed class ModelRepository(string root)
{
    /// <summary>The manifest's file name inside a version folder.</summary>
    public const string ManifestFileName = "manifest.json";

    /// <summary>How old a staging folder must be before <see cref="Prune"/> treats it as left by a crash.</summary>
    public static readonly TimeSpan StaleStagingAge = TimeSpan.FromHours(1);

    internal const string StagingPrefix = ".staging-";
    private const string DeletingPrefix = ".deleting-";
    private const string TimestampFormat = "yyyyMMdd-HHmmss-fff";

    // Last timestamp handed out in this process: versions begun here are strictly increasing even within one ms.
    private static long _lastVersionMs;

    /// <summary>The absolute models folder.</summary>
    public string Root { get; } = Path.GetFullPath(root ?? throw new ArgumentNullException(nameof(root)));

    /// <summary>
    /// Starts a new version in a staging folder. Its name is newer than every version already listed and than
    /// every version begun earlier in this process; a random suffix keeps versions of different processes apart.
    /// </summary>
    /// <returns>A writer; dispose it (after <see cref="ModelVersionWriter.Commit"/> or to abandon the version).</returns>
    public ModelVersionWriter BeginVersion()
    {
        Directory.CreateDirectory(Root);
        var newest = ListVersions();
        var floorMs = newest.Count > 0 && TryParseTimestamp(newest[0], out var newestMs) ? newestMs + 1 : long.MinValue;

        for (var attempt = 0; ; attempt++)
        {
            var version = NewVersionName(floorMs);
            var staging = Path.Combine(Root, StagingPrefix + version);
            if (Directory.Exists(staging) || Directory.Exists(Path.Combine(Root, version)))
            {
                // Same millisecond and same random suffix in another process: astronomically rare, but cheap to retry.
                if (attempt >= 16)
                {
                    throw new IOException($"could not find a free version name in {Root}");
                }

                continue;
            }

            Directory.CreateDirectory(staging);
            return new ModelVersionWriter(this, version, staging);
        }
    }

    /// <summary>
    /// Committed versions, newest first: folders that hold a manifest.json. Staging folders and folders being
    /// deleted (names starting with '.') are never listed. Listing does not validate.
    /// </summary>
    public IReadOnlyList<string> ListVersions()
    {
        if (!Directory.Exists(Root))
        {
            return [];
        }

        var versions = new List<string>();
        foreach (var folder in Directory.EnumerateDirectories(Root))
        {
            var name = Path.GetFileName(folder);
            if (name.StartsWith('.') || !ModelManifest.IsValidName(name))
            {
                continue;
            }

            if (File.Exists(Path.Combine(folder, ManifestFileName)))
            {
                versions.Add(name);
            }
        }

        versions.Sort((a, b) => string.CompareOrdinal(b, a));
        return versions;
    }

    /// <summary>
    /// Checks one version: the manifest parses, names this folder's version, and every listed file exists with the
    /// listed size and SHA-256. Files in the folder that the manifest does not list are ignored.
    /// </summary>
    /// <returns>A check whose <see cref="ModelVersionCheck.Error"/> says what is wrong; never throws for a bad version.</returns>
    /// <exception cref="ArgumentException"><paramref name="version"/> is not a flat folder name.</exception>
    public ModelVersionCheck Validate(string version)
    {
        var folder = FolderOf(version);
        try
        {
            if (!Directory.Exists(folder))
            {
                return ModelVersionCheck.Invalid(version, "version folder missing");
            }

            var manifestPath = Path.Combine(folder, ManifestFileName);
            if (!File.Exists(manifestPath))
            {
                return ModelVersionCheck.Invalid(version, "manifest.json missing");
            }

            ModelManifest manifest;
            using (var stream = new FileStream(manifestPath, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete))
            {
                manifest = ModelManifest.Read(stream);
            }

            if (!string.Equals(manifest.Version, version, StringComparison.Ordinal))
            {
                return ModelVersionCheck.Invalid(version, $"manifest names version {manifest.Version}, folder is {version}");
            }

            foreach (var file in manifest.Files)
            {
                var error = CheckFile(Path.Combine(folder, file.Name), file);
                if (error is not null)
                {
                    return ModelVersionCheck.Invalid(version, error);
                }
            }

            return ModelVersionCheck.Valid(manifest);
        }
        catch (InvalidDataException ex)
        {
            return ModelVersionCheck.Invalid(version, ex.Message);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return ModelVersionCheck.Invalid(version, $"cannot read: {ex.Message}");
        }
    }

    /// <summary>Validates the versions one by one, newest first, lazily (stop enumerating to stop hashing).</summary>
    public IEnumerable<ModelVersionCheck> ValidateNewestFirst()
    {
        foreach (var version in ListVersions())
        {
            yield return Validate(version);
        }
    }

    /// <summary>
    /// Finds the newest valid version.
    /// </summary>
    /// <param name="manifest">The newest valid version's manifest; null when there is none.</param>
    /// <param name="rejected">The versions newer than it that failed validation, newest first, with their errors.</param>
    /// <returns>False when no version is valid (or none exists); <paramref name="rejected"/> then lists every version.</returns>
    public bool TryGetNewestValid([MaybeNullWhen(false)] out ModelManifest manifest, out IReadOnlyList<ModelVersionCheck> rejected)
    {
        var refused = new List<ModelVersionCheck>();
        foreach (var check in ValidateNewestFirst())
        {
            if (check.IsValid)
            {
                manifest = check.Manifest;
                rejected = refused;
                return true;
            }

            refused.Add(check);
        }

        manifest = null;
        rejected = refused;
        return false;
    }

    /// <summary>
    /// Opens a file of a version for reading. The size is checked against the manifest (cheap); the hash is not,
    /// that is <see cref="Validate"/>'s job. The file may be deleted by <see cref="Prune"/> while open.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="fileName"/> is not a flat name.</exception>
    /// <exception cref="FileNotFoundException">The manifest does not list the file, or it is gone from disk.</exception>
    /// <exception cref="InvalidDataException">The file's size differs from the manifest.</exception>
    public Stream OpenRead(ModelManifest manifest, string fileName)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        if (!ModelManifest.IsValidName(fileName))
        {
            throw new ArgumentException($"'{fileName}' is not a flat file name", nameof(fileName));
        }

        ManifestFile? entry = null;
        foreach (var file in manifest.Files)
        {
            if (string.Equals(file.Name, fileName, StringComparison.Ordinal))
            {
                entry = file;
                break;
            }
        }

        var path = Path.Combine(FolderOf(manifest.Version), fileName);
        if (entry is null)
        {
            throw new FileNotFoundException($"version {manifest.Version} has no file {fileName} in its manifest", path);
        }

        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete);
        if (stream.Length != entry.Bytes)
        {
            var length = stream.Length;
            stream.Dispose();
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"file {fileName}: size {length} != {entry.Bytes} in manifest of version {manifest.Version}"));
        }

        return stream;
    }

    /// <summary>The folder of a committed version (whether or not it exists).</summary>
    /// <exception cref="ArgumentException"><paramref name="version"/> is not a flat folder name or names a hidden folder.</exception>
    public string FolderOf(string version)
    {
        if (!ModelManifest.IsValidName(version) || version.StartsWith('.'))
        {
            throw new ArgumentException($"'{version}' is not a version name", nameof(version));
        }

        return Path.Combine(Root, version);
    }

    /// <summary>
    /// Deletes every version except the newest <paramref name="keep"/> valid ones (invalid versions, newer or older,
    /// are deleted too), staging folders untouched for <see cref="StaleStagingAge"/>, and leftovers of interrupted
    /// deletions. When no version is valid, no version is deleted (a passing read error must not empty the folder).
    /// </summary>
    /// <param name="keep">How many valid versions to keep; at least 1, so the newest valid version always stays.</param>
    /// <returns>The number of folders deleted (versions and staging folders).</returns>
    /// <remarks>Validates versions newest first until <paramref name="keep"/> valid ones are found (hashing them).</remarks>
    public int Prune(int keep)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(keep, 1);
        if (!Directory.Exists(Root))
        {
            return 0;
        }

        var deleted = 0;
        var versions = ListVersions();
        var kept = new HashSet<string>(StringComparer.Ordinal);
        foreach (var version in versions)
        {
            if (kept.Count == keep)
            {
                break;
            }

            if (Validate(version).IsValid)
            {
                kept.Add(version);
            }
        }

        if (kept.Count > 0)
        {
            foreach (var version in versions)
            {
                if (!kept.Contains(version) && TryDelete(Path.Combine(Root, version), version))
                {
                    deleted++;
                }
            }
        }

        var staleBefore = DateTime.UtcNow - StaleStagingAge;
        foreach (var folder in Directory.EnumerateDirectories(Root))
        {
            var name = Path.GetFileName(folder);
            if (name.StartsWith(DeletingPrefix, StringComparison.Ordinal))
            {
                TryDeleteTree(folder);
            }
            else if (name.StartsWith(StagingPrefix, StringComparison.Ordinal) && LastWriteUtc(folder) < staleBefore
                && TryDelete(folder, name))
            {
                deleted++;
            }
        }

        return deleted;
    }

    internal static string? CheckFile(string path, ManifestFile file)
    {
        if (!File.Exists(path))
        {
            return $"file {file.Name}: missing";
        }

        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 1 << 16);
        if (stream.Length != file.Bytes)
        {
            return string.Create(CultureInfo.InvariantCulture, $"file {file.Name}: size {stream.Length} != {file.Bytes} in manifest");
        }

        var hash = Convert.ToHexStringLower(SHA256.HashData(stream));
        return string.Equals(hash, file.Sha256, StringComparison.Ordinal) ? null : $"file {file.Name}: SHA-256 mismatch";
    }

    private static string NewVersionName(long floorMs)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        long last;
        long next;
        do
        {
            last = Volatile.Read(ref _lastVersionMs);
            next = Math.Max(Math.Max(now, floorMs), last + 1);
        }
        while (Interlocked.CompareExchange(ref _lastVersionMs, next, last) != last);

        var stamp = DateTimeOffset.FromUnixTimeMilliseconds(next).ToString(TimestampFormat, CultureInfo.InvariantCulture);
        return $"{stamp}-{RandomNumberGenerator.GetHexString(4, lowercase: true)}";
    }

    private static bool TryParseTimestamp(string version, out long unixMs)
    {
        unixMs = 0;
        if (version.Length < TimestampFormat.Length
            || !DateTimeOffset.TryParseExact(version.AsSpan(0, TimestampFormat.Length), TimestampFormat, CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time))
        {
            return false;
        }

        unixMs = time.ToUnixTimeMilliseconds();
        return true;
    }

    private bool TryDelete(string folder, string name)
    {
        // Renaming to a hidden name first takes the folder out of every listing at once; the slow recursive delete
        // then happens out of sight, and a crash in the middle leaves a ".deleting-" folder for the next prune.
        var hidden = Path.Combine(Root, $"{DeletingPrefix}{name}-{RandomNumberGenerator.GetHexString(4, lowercase: true)}");
        try
        {
            Directory.Move(folder, hidden);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Already deleted by a concurrent prune, or held open (Windows).
            return false;
        }

        TryDeleteTree(hidden);
        return true;
    }

    private static void TryDeleteTree(string folder)
    {
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Left for the next prune.
        }
    }

    private static DateTime LastWriteUtc(string folder)
    {
        // A writer appending to one large file for hours does not touch the folder's own time, so look inside too.
        var latest = Directory.GetLastWriteTimeUtc(folder);
        try
        {
            foreach (var file in Directory.EnumerateFiles(folder))
            {
                var time = File.GetLastWriteTimeUtc(file);
                if (time > latest)
                {
                    latest = time;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return DateTime.MaxValue;
        }

        return latest;
    }
}

/// <summary>The outcome of <see cref="ModelRepository.Validate"/> for one version.</summary>
/// <param name="Version">The version checked.</param>
/// <param name="Manifest">The manifest when the version is valid; null otherwise.</param>
/// <param name="Error">Why the version is refused, e.g. "file als.bin: size 10 != 12 in manifest"; null when valid.</param>
public sealed record ModelVersionCheck(string Version, ModelManifest? Manifest, string? Error)
{
    /// <summary>True when every check passed; <see cref="Manifest"/> is then set.</summary>
    [MemberNotNullWhen(true, nameof(Manifest))]
    public bool IsValid => Manifest is not null && Error is null;

    internal static ModelVersionCheck Valid(ModelManifest manifest) => new(manifest.Version, manifest, null);

    internal static ModelVersionCheck Invalid(string version, string error) => new(version, null, error);
}

/// <summary>
/// Writes one model version into its staging folder. Create files with <see cref="Create"/> (or write them into
/// <see cref="Folder"/> directly, for libraries that save to a path), dispose them, then <see cref="Commit"/>.
/// Disposing without committing deletes everything written. Thread-safe: files may be written in parallel.
/// </summary>
public sealed class ModelVersionWriter : IDisposable
{
    private readonly ModelRepository _repository;
    private readonly Lock _lock = new();
    private readonly List<(string Name, FileStream Stream)> _streams = [];
    private readonly DateTimeOffset _begunAt = DateTimeOffset.UtcNow;
    private bool _committed;
    private bool _disposed;

    internal ModelVersionWriter(ModelRepository repository, string version, string folder)
    {
        _repository = repository;
        Version = version;
        Folder = folder;
    }

    /// <summary>The version this writer will commit.</summary>
    public string Version { get; }

    /// <summary>The staging folder; only flat files may be placed in it. Gone after commit or dispose.</summary>
    public string Folder { get; }

    /// <summary>Creates a new file in the version. The caller disposes the stream before <see cref="Commit"/>.</summary>
    /// <exception cref="ArgumentException">The name has path separators or "..", or is manifest.json.</exception>
    /// <exception cref="IOException">A file of that name already exists in the version.</exception>
    /// <exception cref="InvalidOperationException">The writer is committed.</exception>
    public Stream Create(string fileName)
    {
        if (!ModelManifest.IsValidName(fileName)
            || string.Equals(fileName, ModelRepository.ManifestFileName, StringComparison.OrdinalIgnoreCase))
        {
            throw new ArgumentException($"'{fileName}' is not a flat file name or is reserved", nameof(fileName));
        }

        lock (_lock)
        {
            ThrowIfDone();
            var stream = new FileStream(Path.Combine(Folder, fileName), FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
            _streams.Add((fileName, stream));
            return stream;
        }
    }

    /// <summary>
    /// Hashes every file in the staging folder, writes manifest.json last, flushes everything to disk and renames the
    /// folder into place. Sets <see cref="ModelManifest.Version"/>, <see cref="ModelManifest.FormatVersion"/> and
    /// <see cref="ModelManifest.Files"/> (replacing what the argument had), and <see cref="ModelManifest.CreatedAt"/>
    /// when it was left default.
    /// </summary>
    /// <returns>The manifest as written.</returns>
    /// <exception cref="InvalidOperationException">
    /// A stream from <see cref="Create"/> is still open, the folder holds a sub-folder, a badly named file or a
    /// manifest.json, or the writer is already committed or disposed. The version stays staged; dispose the writer.
    /// </exception>
    public ModelManifest Commit(ModelManifest manifestWithoutFiles)
    {
        ArgumentNullException.ThrowIfNull(manifestWithoutFiles);
        lock (_lock)
        {
            ThrowIfDone();
            foreach (var (name, stream) in _streams)
            {
                // A disposed FileStream reports CanWrite false; closing it here would hide a caller still writing.
                if (stream.CanWrite)
                {
                    throw new InvalidOperationException($"file {name} is still open; dispose its stream before Commit");
                }
            }

            if (Directory.EnumerateDirectories(Folder).Any())
            {
                throw new InvalidOperationException($"version {Version} holds a sub-folder; only flat files are supported");
            }

            var files = new List<ManifestFile>();
            foreach (var path in Directory.EnumerateFiles(Folder))
            {
                var name = Path.GetFileName(path);
                if (!ModelManifest.IsValidName(name) || string.Equals(name, ModelRepository.ManifestFileName, StringComparison.OrdinalIgnoreCase))
                {
                    throw new InvalidOperationException($"version {Version} holds a file that cannot be committed: '{name}'");
                }

                files.Add(HashAndFlush(path, name));
            }

            files.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
            var manifest = manifestWithoutFiles with
            {
                FormatVersion = ModelManifest.CurrentFormatVersion,
                Version = Version,
                CreatedAt = manifestWithoutFiles.CreatedAt == default ? _begunAt : manifestWithoutFiles.CreatedAt,
                Files = files,
            };

            using (var stream = new FileStream(Path.Combine(Folder, ModelRepository.ManifestFileName), FileMode.Create, FileAccess.Write, FileShare.None))
            {
                manifest.Write(stream);
                stream.Flush(flushToDisk: true);
            }

            // rename(2) within one folder is atomic: readers see either no version or the whole of it.
            Directory.Move(Folder, _repository.FolderOf(Version));
            _committed = true;
            return manifest;
        }
    }

    /// <summary>Abandons an uncommitted version: closes streams still open and deletes the staging folder.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            foreach (var (_, stream) in _streams)
            {
                stream.Dispose();
            }

            if (!_committed)
            {
                try
                {
                    Directory.Delete(Folder, recursive: true);
                }
                catch (DirectoryNotFoundException)
                {
                    // Deleted by hand or by a prune; nothing left to clean.
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    // Left as a stale staging folder; Prune removes it after an hour.
                }
            }
        }
    }

    private static ManifestFile HashAndFlush(string path, string name)
    {
        // Opened for writing only so that Flush(true) reaches the disk: the hash must describe bytes that survive a crash.
        using var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read, 1 << 16);
        var hash = Convert.ToHexStringLower(SHA256.HashData(stream));
        stream.Flush(flushToDisk: true);
        return new ManifestFile(name, stream.Length, hash);
    }

    private void ThrowIfDone()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_committed)
        {
            throw new InvalidOperationException($"version {Version} is already committed");
        }
    }
}
