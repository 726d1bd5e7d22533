using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace Assistant.Api.Tests.Storage;

/// <summary>
/// A throwaway PostgreSQL cluster for the tests, started from the local PostgreSQL binaries (as the postgres user
/// when the tests run as root, since the server refuses to run as root), or the server named by the environment
/// variable ASSISTANT_TEST_POSTGRES (a connection string). Each test gets a database of its own.
/// When no server can be had, <see cref="SkipReason"/> says why: tests skip locally and fail when CI is set.
/// </summary>
public sealed class PostgresServer : IAsyncLifetime
{
    public const string ConnectionStringVariable = "ASSISTANT_TEST_POSTGRES";

    private string? _root;
    private string? _binDir;
    private bool _asPostgresUser;

    public string? ConnectionString { get; private set; }

    public string? SkipReason { get; private set; }

    public async Task InitializeAsync()
    {
        var external = Environment.GetEnvironmentVariable(ConnectionStringVariable);
        if (!string.IsNullOrWhiteSpace(external))
        {
            ConnectionString = external;
            return;
        }

        try
        {
            await StartClusterAsync().ConfigureAwait(false);
        }
#pragma warning disable CA1031 // any failure to start a server becomes a skip reason (or a CI failure)
        catch (Exception ex)
#pragma warning restore CA1031
        {
            SkipReason = $"No PostgreSQL server could be started: {ex.Message}";
        }
    }

    /// <summary>A new empty database on the server; its data source is the caller's to dispose.</summary>
    public async Task<NpgsqlDataSource> CreateDatabaseAsync()
    {
        if (ConnectionString is null)
        {
            throw new InvalidOperationException(SkipReason ?? "PostgreSQL is not available.");
        }

        var name = "t_" + Guid.NewGuid().ToString("N")[..16];
        await using (var admin = NpgsqlDataSource.Create(ConnectionString))
        {
            await using var cmd = admin.CreateCommand($"CREATE DATABASE {name}");
            await cmd.ExecuteNonQueryAsync().ConfigureAwait(false);
        }

        var builder = new NpgsqlConnectionStringBuilder(ConnectionString) { Database = name };
        return NpgsqlDataSource.Create(builder.ConnectionString);
    }

    /// <summary>Skips the test locally when no server is available; fails it when CI is set.</summary>
    public void RequireOrSkip()
    {
        if (SkipReason is null)
        {
            return;
        }

        if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CI")))
        {
            throw new InvalidOperationException("CI is set, so PostgreSQL tests must run: " + SkipReason);
        }

        Skip.If(true, SkipReason);
    }

    private async Task StartClusterAsync()
    {
        _binDir = FindBinDir() ?? throw new InvalidOperationException("initdb and pg_ctl were not found (install the postgresql package).");
        _asPostgresUser = Environment.UserName == "root";
        _root = Path.Combine(Path.GetTempPath(), "assistant-pg-" + Guid.NewGuid().ToString("N")[..8]);
        var data = Path.Combine(_root, "data");
        var socket = Path.Combine(_root, "sock");
        Directory.CreateDirectory(data);
        Directory.CreateDirectory(socket);
        if (_asPostgresUser)
        {
            await RunAsync("chown", ["-R", "postgres:postgres", _root], asPostgres: false).ConfigureAwait(false);
        }

        await RunAsync(Path.Combine(_binDir, "initdb"), ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"], _asPostgresUser).ConfigureAwait(false);
        var port = FreePort();
        var serverOptions = $"-k {socket} -p {port} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=50";
        await RunAsync(Path.Combine(_binDir, "pg_ctl"), ["-D", data, "-l", Path.Combine(_root, "server.log"), "-o", serverOptions, "-w", "-t", "60", "start"], _asPostgresUser).ConfigureAwait(false);
        ConnectionString = $"Host=127.0.0.1;Port={port};Username=postgres;Database=postgres;Pooling=true;Timeout=30";
    }

    public async Task DisposeAsync()
    {
        if (_root is null || _binDir is null)
        {
            return;
        }

        NpgsqlConnection.ClearAllPools();
        try
        {
            await RunAsync(Path.Combine(_binDir, "pg_ctl"), ["-D", Path.Combine(_root, "data"), "-m", "immediate", "stop"], _asPostgresUser).ConfigureAwait(false);
        }
        finally
        {
            try
            {
                Directory.Delete(_root, recursive: true);
            }
            catch (IOException)
            {
                // a leftover temp folder is harmless
            }
        }
    }

    private static string? FindBinDir()
    {
        var candidates = new List<string>();
        const string debian = "/usr/lib/postgresql";
        if (Directory.Exists(debian))
        {
            candidates.AddRange(Directory.GetDirectories(debian).OrderByDescending(d => int.TryParse(Path.GetFileName(d), out var v) ? v : 0).Select(d => Path.Combine(d, "bin")));
        }

        candidates.AddRange((Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries));
        return candidates.FirstOrDefault(d => File.Exists(Path.Combine(d, "initdb")) && File.Exists(Path.Combine(d, "pg_ctl")));
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task RunAsync(string file, string[] args, bool asPostgres)
    {
        var psi = asPostgres ? new ProcessStartInfo("runuser") : new ProcessStartInfo(file);
        if (asPostgres)
        {
            foreach (var a in (string[])["-u", "postgres", "--", file])
            {
                psi.ArgumentList.Add(a);
            }
        }

        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        psi.RedirectStandardOutput = true;
        psi.RedirectStandardError = true;
        psi.WorkingDirectory = Path.GetTempPath();
        using var process = Process.Start(psi) ?? throw new InvalidOperationException($"Could not start {file}.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{Path.GetFileName(file)} exited {process.ExitCode}: {await stderr.ConfigureAwait(false)} {await stdout.ConfigureAwait(false)}".Trim());
        }
    }
}

[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresServer>
{
    public const string Name = "postgres";
}
