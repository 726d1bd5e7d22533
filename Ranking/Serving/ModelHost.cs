using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Ranking.Serving;

/// <summary>What a <see cref="ModelHost{T}.Reload"/> did.</summary>
public enum ReloadStatus
{
    /// <summary>A new version was loaded and now serves.</summary>
    Loaded,

    /// <summary>The serving version is still the newest valid one; nothing newer was refused.</summary>
    Unchanged,

    /// <summary>A newer version exists but was refused (invalid files or a failing loader); the previous one, if any, still serves.</summary>
    Refused,

    /// <summary>The repository holds no version and nothing is loaded.</summary>
    NoVersion,
}

/// <summary>A version a reload did not take, and why ("file als.bin: SHA-256 mismatch", "load failed: ...").</summary>
public sealed record RefusedVersion(string Version, string Reason);

/// <summary>The outcome of <see cref="ModelHost{T}.Reload"/>.</summary>
/// <param name="Status">What happened.</param>
/// <param name="Version">The version serving after the reload; null when nothing is loaded.</param>
/// <param name="Error">For <see cref="ReloadStatus.Refused"/>, the reason the newest refused version gave; otherwise null.</param>
/// <param name="Refused">Every version refused during this reload, newest first (may be non-empty with <see cref="ReloadStatus.Loaded"/>).</param>
public sealed record ReloadResult(ReloadStatus Status, string? Version, string? Error, IReadOnlyList<RefusedVersion> Refused);

/// <summary>
/// Holds the model bundle being served and swaps it atomically when a newer valid version is loaded.
/// </summary>
/// <remarks>
/// <para>
/// Lifetime scheme: reference counting. Each loaded bundle lives in a slot whose count starts at 1, the host's own
/// reference. <see cref="Acquire"/> adds one (only while the count is above zero) and the <see cref="Lease"/> removes
/// it on dispose; a swap replaces the slot and drops the host's reference. The bundle is disposed (when it is
/// <see cref="IDisposable"/>) by whoever brings the count to zero: the swap itself when no request holds it, or the
/// last in-flight request to finish. A request therefore never sees a disposed bundle, and no timer is involved.
/// </para>
/// <para>
/// Reloads are serialised by a lock and run on the caller's thread; requests are never blocked by a reload.
/// The host never goes back to an older version than the one serving.
/// </para>
/// </remarks>
/// <typeparam name="T">The loaded bundle.</typeparam>
public sealed class ModelHost<T> : IDisposable
    where T : class
{
    private readonly ModelRepository _repository;
    private readonly Func<ModelRepository, ModelManifest, CancellationToken, T> _load;
    private readonly Action<string>? _log;
    private readonly Lock _reloadLock = new();
    private Slot? _current;
    private bool _disposed;

    /// <summary>Creates a host with nothing loaded; call <see cref="Reload"/> to load the newest valid version.</summary>
    /// <param name="repository">Where versions are read from.</param>
    /// <param name="load">Builds a bundle from a validated version. May throw: that version is then refused.</param>
    /// <param name="log">Receives one line per load, refusal and disposal failure (Ranking does not reference a logging package).</param>
    public ModelHost(ModelRepository repository, Func<ModelRepository, ModelManifest, CancellationToken, T> load, Action<string>? log = null)
    {
        ArgumentNullException.ThrowIfNull(repository);
        ArgumentNullException.ThrowIfNull(load);
        _repository = repository;
        _load = load;
        _log = log;
    }

    /// <summary>
    /// The serving bundle, or null before the first successful load. For a look only: a bundle read here may be swapped
    /// out and disposed while in use. Requests use <see cref="Acquire"/>.
    /// </summary>
    public T? Current => Volatile.Read(ref _current)?.Bundle;

    /// <summary>The serving version's manifest, or null before the first successful load.</summary>
    public ModelManifest? CurrentManifest => Volatile.Read(ref _current)?.Manifest;

    /// <summary>
    /// Takes a reference on the serving bundle for one request. Dispose the lease when done; until then the bundle is
    /// not disposed, even if a reload swaps it out or the host is disposed.
    /// </summary>
    /// <exception cref="InvalidOperationException">Nothing is loaded yet.</exception>
    /// <exception cref="ObjectDisposedException">The host is disposed.</exception>
    public Lease Acquire()
    {
        if (TryAcquire(out var lease))
        {
            return lease;
        }

        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed), this);
        throw new InvalidOperationException("no model version is loaded");
    }

    /// <summary>Like <see cref="Acquire"/>, but returns false when nothing is loaded or the host is disposed.</summary>
    public bool TryAcquire([NotNullWhen(true)] out Lease? lease)
    {
        while (true)
        {
            var slot = Volatile.Read(ref _current);
            if (slot is null)
            {
                lease = null;
                return false;
            }

            if (slot.TryAddReference())
            {
                lease = new Lease(slot);
                return true;
            }

            // The slot's count reached zero between the read and the increment: it was swapped out, so _current
            // already holds its successor (or null). Read again.
        }
    }

    /// <summary>
    /// Loads the newest valid version if it is newer than the serving one. Invalid versions are skipped and reported.
    /// When the loader throws for the newest valid version, the serving bundle stays and the result is
    /// <see cref="ReloadStatus.Refused"/>; only when nothing is loaded yet are older valid versions tried in turn.
    /// </summary>
    /// <param name="cancellationToken">Passed to the loader; cancelling keeps the serving bundle and throws.</param>
    /// <exception cref="OperationCanceledException">Cancelled; nothing changed.</exception>
    /// <exception cref="ObjectDisposedException">The host is disposed.</exception>
    public ReloadResult Reload(CancellationToken cancellationToken = default)
    {
        lock (_reloadLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var current = Volatile.Read(ref _current);
            var currentVersion = current?.Manifest.Version;
            var refused = new List<RefusedVersion>();

            foreach (var version in _repository.ListVersions())
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (currentVersion is not null && string.CompareOrdinal(version, currentVersion) <= 0)
                {
                    // The serving version or an older one: nothing newer is loadable, and the host never goes back.
                    break;
                }

                var check = _repository.Validate(version);
                if (!check.IsValid)
                {
                    Refuse(refused, version, check.Error ?? "invalid");
                    continue;
                }

                var started = Stopwatch.GetTimestamp();
                T? bundle;
                try
                {
                    bundle = _load(_repository, check.Manifest, cancellationToken)
                        ?? throw new InvalidOperationException("the loader returned null");
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    throw;
                }
                catch (Exception ex)
                {
                    Refuse(refused, version, $"load failed: {ex.GetType().Name}: {ex.Message}");
                    if (current is not null)
                    {
                        break;
                    }

                    continue;
                }

                var previous = Interlocked.Exchange(ref _current, new Slot(bundle, check.Manifest, _log));
                previous?.Release();
                _log?.Invoke(string.Create(CultureInfo.InvariantCulture,
                    $"model version {version} loaded in {Stopwatch.GetElapsedTime(started).TotalSeconds:F2} s (was {currentVersion ?? "none"})"));
                return new ReloadResult(ReloadStatus.Loaded, version, null, refused);
            }

            if (refused.Count > 0)
            {
                return new ReloadResult(ReloadStatus.Refused, currentVersion, refused[0].Reason, refused);
            }

            return new ReloadResult(currentVersion is null ? ReloadStatus.NoVersion : ReloadStatus.Unchanged, currentVersion, null, refused);
        }
    }

    /// <summary>
    /// Stops serving: later acquires fail, and the bundle is disposed once the last outstanding lease is released.
    /// Waits for a reload in progress.
    /// </summary>
    public void Dispose()
    {
        lock (_reloadLock)
        {
            if (_disposed)
            {
                return;
            }

            Volatile.Write(ref _disposed, true);
            Interlocked.Exchange(ref _current, null)?.Release();
        }
    }

    private void Refuse(List<RefusedVersion> refused, string version, string reason)
    {
        refused.Add(new RefusedVersion(version, reason));
        _log?.Invoke($"model version {version} refused: {reason}");
    }

    /// <summary>
    /// One request's hold on a bundle. Disposing twice is harmless. Reading
    /// <see cref="Bundle"/> after dispose throws, so a use-after-release shows up instead of touching a disposed model.
    /// </summary>
    public sealed class Lease : IDisposable
    {
        private readonly Slot _slot;
        private int _released;

        internal Lease(Slot slot) => _slot = slot;

        /// <summary>The bundle, valid until the lease is disposed.</summary>
        /// <exception cref="ObjectDisposedException">The lease is disposed.</exception>
        public T Bundle
        {
            get
            {
                ObjectDisposedException.ThrowIf(Volatile.Read(ref _released) != 0, this);
                return _slot.Bundle;
            }
        }

        /// <summary>The manifest of the version the bundle was loaded from.</summary>
        public ModelManifest Manifest => _slot.Manifest;

        /// <summary>Releases the reference; the last release of a swapped-out bundle disposes it.</summary>
        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                _slot.Release();
            }
        }
    }

    internal sealed class Slot(T bundle, ModelManifest manifest, Action<string>? log)
    {
        // Starts at 1: the host's own reference, dropped when the slot is swapped out.
        private int _references = 1;

        public T Bundle { get; } = bundle;

        public ModelManifest Manifest { get; } = manifest;

        public bool TryAddReference()
        {
            var count = Volatile.Read(ref _references);
            while (count > 0)
            {
                var seen = Interlocked.CompareExchange(ref _references, count + 1, count);
                if (seen == count)
                {
                    return true;
                }

                count = seen;
            }

            // Zero is final: the bundle is disposed or being disposed.
            return false;
        }

        public void Release()
        {
            var count = Interlocked.Decrement(ref _references);
            Debug.Assert(count >= 0, "a slot was released more often than referenced");
            if (count != 0 || Bundle is not IDisposable disposable)
            {
                return;
            }

            try
            {
                disposable.Dispose();
            }
            catch (Exception ex)
            {
                // Runs on a request thread when the last lease goes; a failing dispose must not fail that request.
                log?.Invoke($"model version {Manifest.Version}: dispose failed: {ex.GetType().Name}: {ex.Message}");
            }
        }
    }
}
