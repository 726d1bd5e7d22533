using System.Collections.Concurrent;
using System.Text;
using Ranking.Serving;

namespace Ranking.Tests.Serving;

public sealed class ModelHostTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "ranking-host-" + Guid.NewGuid().ToString("N"));
    private readonly ModelRepository _repository;
    private readonly ConcurrentQueue<Bundle> _loaded = new();
    private readonly List<string> _log = [];

    public ModelHostTests() => _repository = new ModelRepository(_root);

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    /// <summary>A bundle that records its disposal.</summary>
    private sealed class Bundle(string version, string content) : IDisposable
    {
        private int _disposed;

        public string Version { get; } = version;

        public string Content { get; } = content;

        public bool IsDisposed => Volatile.Read(ref _disposed) != 0;

        public int DisposeCount => Volatile.Read(ref _disposed);

        public void Dispose() => Interlocked.Increment(ref _disposed);
    }

    private string Commit(string content) =>
        ModelRepositoryTests.CommitVersion(_repository, ("model.txt", Encoding.UTF8.GetBytes(content))).Version;

    private Bundle Load(ModelRepository repository, ModelManifest manifest, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        using var reader = new StreamReader(repository.OpenRead(manifest, "model.txt"));
        var content = reader.ReadToEnd();
        if (content.StartsWith("throw", StringComparison.Ordinal))
        {
            throw new InvalidDataException("bad weights");
        }

        var bundle = new Bundle(manifest.Version, content);
        _loaded.Enqueue(bundle);
        return bundle;
    }

    private ModelHost<Bundle> NewHost() => new(_repository, Load, line =>
    {
        lock (_log)
        {
            _log.Add(line);
        }
    });

    [Fact]
    public void Reload_Empty_ReportsNoVersion()
    {
        using var host = NewHost();

        var result = host.Reload();

        Assert.Equal(ReloadStatus.NoVersion, result.Status);
        Assert.Null(host.Current);
        Assert.False(host.TryAcquire(out _));
        Assert.Throws<InvalidOperationException>(() => host.Acquire());
    }

    [Fact]
    public void Reload_First_LoadsNewest()
    {
        Commit("one");
        var v2 = Commit("two");
        using var host = NewHost();

        var result = host.Reload();

        Assert.Equal(ReloadStatus.Loaded, result.Status);
        Assert.Equal(v2, result.Version);
        Assert.Equal("two", host.Current!.Content);
        Assert.Equal(v2, host.CurrentManifest!.Version);
        Assert.Single(_loaded);
    }

    [Fact]
    public void Reload_NoNewVersion_IsUnchanged()
    {
        var v1 = Commit("one");
        using var host = NewHost();
        host.Reload();

        var result = host.Reload();

        Assert.Equal(ReloadStatus.Unchanged, result.Status);
        Assert.Equal(v1, result.Version);
        Assert.Single(_loaded);
    }

    [Fact]
    public void Reload_NewerVersion_SwapsAndDisposesOld()
    {
        Commit("one");
        using var host = NewHost();
        host.Reload();
        var old = host.Current!;
        var v2 = Commit("two");

        var result = host.Reload();

        Assert.Equal(ReloadStatus.Loaded, result.Status);
        Assert.Equal(v2, host.CurrentManifest!.Version);
        Assert.Equal("two", host.Current!.Content);
        Assert.True(old.IsDisposed);
        Assert.False(host.Current.IsDisposed);
    }

    [Fact]
    public void Reload_CorruptNewerVersion_KeepsPreviousAndRefuses()
    {
        var v1 = Commit("one");
        using var host = NewHost();
        host.Reload();
        var v2 = Commit("two");
        File.WriteAllText(Path.Combine(_repository.FolderOf(v2), "model.txt"), "tw0");

        var result = host.Reload();

        Assert.Equal(ReloadStatus.Refused, result.Status);
        Assert.Equal(v1, result.Version);
        Assert.Equal("file model.txt: SHA-256 mismatch", result.Error);
        Assert.Equal(v2, Assert.Single(result.Refused).Version);
        Assert.Equal("one", host.Current!.Content);
        Assert.False(host.Current.IsDisposed);
        Assert.Contains(_log, line => line.Contains(v2, StringComparison.Ordinal) && line.Contains("refused", StringComparison.Ordinal));
    }

    [Fact]
    public void Reload_LoaderThrows_KeepsPreviousAndRefuses()
    {
        var v1 = Commit("one");
        using var host = NewHost();
        host.Reload();
        var v2 = Commit("throw please");

        var result = host.Reload();

        Assert.Equal(ReloadStatus.Refused, result.Status);
        Assert.Equal(v1, result.Version);
        Assert.Contains("bad weights", result.Error, StringComparison.Ordinal);
        Assert.Equal(v2, Assert.Single(result.Refused).Version);
        Assert.Equal("one", host.Current!.Content);
        Assert.False(host.Current.IsDisposed);
    }

    [Fact]
    public void Reload_NothingLoadedAndNewestFails_FallsBackToOlder()
    {
        var v1 = Commit("one");
        var v2 = Commit("throw please");
        var v3 = Commit("three");
        File.WriteAllText(Path.Combine(_repository.FolderOf(v3), "model.txt"), "thr33");

        using var host = NewHost();
        var result = host.Reload();

        Assert.Equal(ReloadStatus.Loaded, result.Status);
        Assert.Equal(v1, result.Version);
        Assert.Equal([v3, v2], result.Refused.Select(r => r.Version));
        Assert.Equal("one", host.Current!.Content);
    }

    [Fact]
    public void Reload_Cancelled_ThrowsAndKeepsPrevious()
    {
        Commit("one");
        using var host = NewHost();
        host.Reload();
        Commit("two");
        using var cts = new CancellationTokenSource();
        cts.Cancel();

        Assert.ThrowsAny<OperationCanceledException>(() => host.Reload(cts.Token));
        Assert.Equal("one", host.Current!.Content);
    }

    [Fact]
    public void Lease_HeldAcrossSwap_KeepsOldBundleUntilReleased()
    {
        Commit("one");
        using var host = NewHost();
        host.Reload();
        var lease = host.Acquire();
        var old = lease.Bundle;
        Commit("two");

        host.Reload();

        Assert.Equal("two", host.Current!.Content);
        Assert.False(old.IsDisposed);
        Assert.Equal("one", lease.Bundle.Content);

        lease.Dispose();
        lease.Dispose();

        Assert.Equal(1, old.DisposeCount);
        Assert.Throws<ObjectDisposedException>(() => lease.Bundle);
        Assert.False(host.Current.IsDisposed);
    }

    [Fact]
    public void Dispose_WithLeaseOutstanding_DisposesBundleOnRelease()
    {
        Commit("one");
        var host = NewHost();
        host.Reload();
        var lease = host.Acquire();

        host.Dispose();

        Assert.False(lease.Bundle.IsDisposed);
        Assert.False(host.TryAcquire(out _));
        Assert.Throws<ObjectDisposedException>(() => host.Acquire());
        Assert.Throws<ObjectDisposedException>(() => host.Reload());
        var bundle = lease.Bundle;
        lease.Dispose();
        Assert.True(bundle.IsDisposed);
    }

    [Fact]
    public async Task AcquireDuringReloads_EveryLeaseSeesLiveBundle()
    {
        const int swaps = 40;
        const int readers = 4;
        Commit("v0");
        var host = NewHost();
        host.Reload();
        using var started = new CountdownEvent(readers);
        var done = 0;
        var leases = 0L;
        var heldAcrossSwap = 0;
        var sawDisposed = 0;

        void Read()
        {
            var first = true;
            var last = false;
            for (var n = 0; !last; n++)
            {
                last = Volatile.Read(ref done) != 0;
                using var lease = host.Acquire();
                var bundle = lease.Bundle;
                if (bundle.IsDisposed)
                {
                    Interlocked.Increment(ref sawDisposed);
                }

                if (first)
                {
                    // The swaps start only once every reader holds v0, so each reader's first lease spans a swap.
                    started.Signal();
                    first = false;
                }

                if (n % 2 == 0)
                {
                    // Held until a reload swaps this bundle out: leases span swaps by construction, not by luck.
                    while (ReferenceEquals(host.Current, bundle) && Volatile.Read(ref done) == 0)
                    {
                        Thread.SpinWait(20);
                    }

                    if (!ReferenceEquals(host.Current, bundle))
                    {
                        Interlocked.Increment(ref heldAcrossSwap);
                    }
                }

                Thread.SpinWait(200);
                if (bundle.IsDisposed || lease.Bundle.IsDisposed)
                {
                    Interlocked.Increment(ref sawDisposed);
                }

                Interlocked.Increment(ref leases);
            }
        }

        var readerTasks = Enumerable.Range(0, readers)
            .Select(_ => Task.Factory.StartNew(Read, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default))
            .ToArray();
        Assert.True(started.Wait(TimeSpan.FromMinutes(1)), "readers did not start");

        var statuses = new List<ReloadStatus>();
        for (var i = 1; i <= swaps; i++)
        {
            Commit($"v{i}");
            statuses.Add(host.Reload().Status);
        }

        Volatile.Write(ref done, 1);
        await Task.WhenAll(readerTasks);
        var final = host.Current!;
        host.Dispose();

        Assert.Equal(0, sawDisposed);
        Assert.True(heldAcrossSwap >= readers, $"{heldAcrossSwap} leases spanned a swap");
        Assert.True(leases > readers);
        Assert.All(statuses, s => Assert.Equal(ReloadStatus.Loaded, s));
        Assert.Equal($"v{swaps}", final.Content);
        Assert.Equal(swaps + 1, _loaded.Count);
        Assert.All(_loaded, b => Assert.Equal(1, b.DisposeCount));
    }
}
