using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;
using Ranking.Data;
using Ranking.Domain;

namespace Assistant.Api.Storage.Sqlite;

/// <summary>
/// The embedded store: one SQLite file (WAL mode), created with its schema on first use. Timestamps are Unix
/// milliseconds, maps are JSON text. Writes are serialised in-process (SQLite has one writer at a time); each
/// batch is one transaction, so a failed batch leaves nothing behind.
/// </summary>
public sealed class SqliteMarketplaceStore : IMarketplaceStore, IDisposable
{
    private readonly string _connectionString;
    private readonly SemaphoreSlim _writeLock = new(1, 1);

    private static StoreRows Rows => StoreRows.Sqlite;

    public SqliteMarketplaceStore(string path)
    {
        var dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(dir))
        {
            Directory.CreateDirectory(dir);
        }

        Path = path;
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
    }

    public string Path { get; }

    public string Kind => "sqlite";

    public void Dispose() => _writeLock.Dispose();

    private async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        using var pragma = connection.CreateCommand();
        pragma.CommandText = "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=OFF; PRAGMA temp_store=MEMORY;";
        await pragma.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        return connection;
    }

    // ---- schema ----

    public async Task InitializeAsync(CancellationToken cancellationToken = default)
    {
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
            await using (var create = connection.CreateCommand())
            {
                create.CommandText = "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL PRIMARY KEY, applied_at INTEGER NOT NULL)";
                await create.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            long current;
            await using (var read = connection.CreateCommand())
            {
                read.CommandText = "SELECT coalesce(max(version), 0) FROM schema_version";
                current = (long)(await read.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
            }

            for (var v = (int)current; v < SqliteSchema.Migrations.Count; v++)
            {
                await using var tx = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
                await using var cmd = connection.CreateCommand();
                cmd.Transaction = tx;
                cmd.CommandText = SqliteSchema.Migrations[v];
                await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                cmd.CommandText = "INSERT INTO schema_version (version, applied_at) VALUES ($v, $t)";
                cmd.Parameters.AddWithValue("$v", v + 1);
                cmd.Parameters.AddWithValue("$t", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
                await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>The schema version the file is at (the number of migrations applied).</summary>
    public async Task<int> GetSchemaVersionAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = "SELECT coalesce(max(version), 0) FROM schema_version";
        return Convert.ToInt32(await cmd.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);
    }

    // ---- writes ----

    private async Task<T> WriteAsync<T>(Func<SqliteConnection, SqliteTransaction, Task<T>> work, CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var tx = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            var result = await work(connection, tx).ConfigureAwait(false);
            await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
            return result;
        }
        finally
        {
            _writeLock.Release();
        }
    }

    public Task<int> UpsertItemsAsync(IReadOnlyList<Item> items, CancellationToken cancellationToken = default) =>
        WriteAsync(async (connection, tx) =>
        {
            await using var cmd = connection.CreateCommand();
            cmd.Transaction = tx;
            cmd.CommandText = """
                INSERT INTO items (id, title, description, category, brand, price, cost, in_stock, created_at, attributes)
                VALUES ($id, $title, $description, $category, $brand, $price, $cost, $in_stock, $created_at, $attributes)
                ON CONFLICT (id) DO UPDATE SET title = excluded.title, description = excluded.description,
                    category = excluded.category, brand = excluded.brand, price = excluded.price, cost = excluded.cost,
                    in_stock = excluded.in_stock, created_at = excluded.created_at, attributes = excluded.attributes
                """;
            var p = Parameters(cmd, "$id", "$title", "$description", "$category", "$brand", "$price", "$cost", "$in_stock", "$created_at", "$attributes");
            foreach (var item in items)
            {
                cancellationToken.ThrowIfCancellationRequested();
                p[0].Value = item.Id;
                p[1].Value = item.Title;
                p[2].Value = item.Description;
                p[3].Value = item.Category;
                p[4].Value = (object?)item.Brand ?? DBNull.Value;
                p[5].Value = (object?)item.Price ?? DBNull.Value;
                p[6].Value = (object?)item.Cost ?? DBNull.Value;
                p[7].Value = item.InStock ? 1 : 0;
                p[8].Value = item.CreatedAt.ToUnixTimeMilliseconds();
                p[9].Value = StorageJson.Write(item.Attributes);
                await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            return items.Count;
        }, cancellationToken);

    public Task<int> UpsertUsersAsync(IReadOnlyList<User> users, CancellationToken cancellationToken = default) =>
        WriteAsync(async (connection, tx) =>
        {
            await using var cmd = connection.CreateCommand();
            cmd.Transaction = tx;
            cmd.CommandText = """
                INSERT INTO users (id, attributes, consent) VALUES ($id, $attributes, $consent)
                ON CONFLICT (id) DO UPDATE SET attributes = excluded.attributes, consent = excluded.consent
                """;
            var p = Parameters(cmd, "$id", "$attributes", "$consent");
            foreach (var user in users)
            {
                cancellationToken.ThrowIfCancellationRequested();
                p[0].Value = user.Id;
                p[1].Value = StorageJson.Write(user.Attributes);
                p[2].Value = StorageJson.Write(user.Consent);
                await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            return users.Count;
        }, cancellationToken);

    public Task<IngestResult> AppendEventsAsync(IReadOnlyList<UserEvent> events, CancellationToken cancellationToken = default) =>
        WriteAsync(async (connection, tx) =>
        {
            await using var cmd = connection.CreateCommand();
            cmd.Transaction = tx;
            cmd.CommandText = """
                INSERT OR IGNORE INTO events (event_id, user_id, item_id, type, ts, surface, query, context_item_id, price, quantity, session_id, value)
                VALUES ($event_id, $user_id, $item_id, $type, $ts, $surface, $query, $context_item_id, $price, $quantity, $session_id, $value)
                """;
            var p = Parameters(cmd, "$event_id", "$user_id", "$item_id", "$type", "$ts", "$surface", "$query", "$context_item_id", "$price", "$quantity", "$session_id", "$value");
            await using var exists = connection.CreateCommand();
            exists.Transaction = tx;
            exists.CommandText = "SELECT EXISTS (SELECT 1 FROM items WHERE id = $id)";
            var existsId = exists.Parameters.Add("$id", SqliteType.Text);
            var known = new Dictionary<string, bool>(StringComparer.Ordinal);

            int stored = 0, unknown = 0;
            foreach (var e in events)
            {
                cancellationToken.ThrowIfCancellationRequested();
                p[0].Value = e.EventId;
                p[1].Value = e.UserId;
                p[2].Value = (object?)e.ItemId ?? DBNull.Value;
                p[3].Value = e.Type;
                p[4].Value = e.Timestamp.ToUnixTimeMilliseconds();
                p[5].Value = (object?)e.Surface ?? DBNull.Value;
                p[6].Value = (object?)e.Query ?? DBNull.Value;
                p[7].Value = (object?)e.ContextItemId ?? DBNull.Value;
                p[8].Value = (object?)e.Price ?? DBNull.Value;
                p[9].Value = (object?)e.Quantity ?? DBNull.Value;
                p[10].Value = (object?)e.SessionId ?? DBNull.Value;
                p[11].Value = (object?)e.Value ?? DBNull.Value;
                if (await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 0)
                {
                    continue;
                }

                stored++;
                if (e.ItemId is { } itemId)
                {
                    if (!known.TryGetValue(itemId, out var inCatalog))
                    {
                        existsId.Value = itemId;
                        inCatalog = Convert.ToInt64(await exists.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture) == 1;
                        known[itemId] = inCatalog;
                    }

                    if (!inCatalog)
                    {
                        unknown++;
                    }
                }
            }

            return new IngestResult(events.Count, stored, events.Count - stored, unknown);
        }, cancellationToken);

    public Task UpsertCampaignAsync(CrmCampaign campaign, CancellationToken cancellationToken = default) =>
        WriteAsync(async (connection, tx) =>
        {
            await using var cmd = connection.CreateCommand();
            cmd.Transaction = tx;
            cmd.CommandText = """
                INSERT INTO crm_campaigns (id, name, channel, started_at, description) VALUES ($id, $name, $channel, $started_at, $description)
                ON CONFLICT (id) DO UPDATE SET name = excluded.name, channel = excluded.channel, started_at = excluded.started_at, description = excluded.description
                """;
            cmd.Parameters.AddWithValue("$id", campaign.Id);
            cmd.Parameters.AddWithValue("$name", campaign.Name);
            cmd.Parameters.AddWithValue("$channel", campaign.Channel);
            cmd.Parameters.AddWithValue("$started_at", campaign.StartedAt.ToUnixTimeMilliseconds());
            cmd.Parameters.AddWithValue("$description", campaign.Description);
            return await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }, cancellationToken);

    public Task<IngestResult> AppendSendsAsync(IReadOnlyList<CrmSend> sends, CancellationToken cancellationToken = default) =>
        WriteAsync(async (connection, tx) =>
        {
            await using var cmd = connection.CreateCommand();
            cmd.Transaction = tx;
            cmd.CommandText = """
                INSERT OR IGNORE INTO crm_sends (send_id, campaign_id, user_id, channel, sent_at, is_treatment, variant)
                VALUES ($send_id, $campaign_id, $user_id, $channel, $sent_at, $is_treatment, $variant)
                """;
            var p = Parameters(cmd, "$send_id", "$campaign_id", "$user_id", "$channel", "$sent_at", "$is_treatment", "$variant");
            var stored = 0;
            foreach (var s in sends)
            {
                cancellationToken.ThrowIfCancellationRequested();
                p[0].Value = s.SendId;
                p[1].Value = s.CampaignId;
                p[2].Value = s.UserId;
                p[3].Value = s.Channel;
                p[4].Value = s.SentAt.ToUnixTimeMilliseconds();
                p[5].Value = s.IsTreatment ? 1 : 0;
                p[6].Value = s.Variant;
                stored += await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            return new IngestResult(sends.Count, stored, sends.Count - stored);
        }, cancellationToken);

    public Task<IngestResult> AppendOutcomesAsync(IReadOnlyList<CrmOutcome> outcomes, CancellationToken cancellationToken = default) =>
        WriteAsync(async (connection, tx) =>
        {
            await using var cmd = connection.CreateCommand();
            cmd.Transaction = tx;
            cmd.CommandText = "INSERT OR IGNORE INTO crm_outcomes (send_id, type, ts, value) VALUES ($send_id, $type, $ts, $value)";
            var p = Parameters(cmd, "$send_id", "$type", "$ts", "$value");
            var stored = 0;
            foreach (var o in outcomes)
            {
                cancellationToken.ThrowIfCancellationRequested();
                p[0].Value = o.SendId;
                p[1].Value = o.Type;
                p[2].Value = o.Timestamp.ToUnixTimeMilliseconds();
                p[3].Value = (object?)o.Value ?? DBNull.Value;
                stored += await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            return new IngestResult(outcomes.Count, stored, outcomes.Count - stored);
        }, cancellationToken);

    public Task UpsertExperimentAsync(Experiment experiment, CancellationToken cancellationToken = default) =>
        WriteAsync(async (connection, tx) =>
        {
            await using var cmd = connection.CreateCommand();
            cmd.Transaction = tx;
            cmd.CommandText = """
                INSERT INTO experiments (name, salt, layer, variants, created_at, status, coverage, layer_offset, layer_share, targeting, started_at, stopped_at)
                VALUES ($name, $salt, $layer, $variants, $created_at, $status, $coverage, $layer_offset, $layer_share, $targeting, $started_at, $stopped_at)
                ON CONFLICT (name) DO UPDATE SET salt = excluded.salt, layer = excluded.layer, variants = excluded.variants, created_at = excluded.created_at,
                    status = excluded.status, coverage = excluded.coverage, layer_offset = excluded.layer_offset, layer_share = excluded.layer_share,
                    targeting = excluded.targeting, started_at = excluded.started_at, stopped_at = excluded.stopped_at
                """;
            cmd.Parameters.AddWithValue("$name", experiment.Name);
            cmd.Parameters.AddWithValue("$salt", experiment.Salt);
            cmd.Parameters.AddWithValue("$layer", experiment.Layer);
            cmd.Parameters.AddWithValue("$variants", StorageJson.Write(experiment.Variants));
            cmd.Parameters.AddWithValue("$created_at", experiment.CreatedAt.ToUnixTimeMilliseconds());
            cmd.Parameters.AddWithValue("$status", StorageJson.Write(experiment.Status));
            cmd.Parameters.AddWithValue("$coverage", experiment.Coverage);
            cmd.Parameters.AddWithValue("$layer_offset", experiment.LayerOffset);
            cmd.Parameters.AddWithValue("$layer_share", experiment.LayerShare);
            cmd.Parameters.AddWithValue("$targeting", StorageJson.Write(experiment.Targeting));
            cmd.Parameters.AddWithValue("$started_at", (object?)experiment.StartedAt?.ToUnixTimeMilliseconds() ?? DBNull.Value);
            cmd.Parameters.AddWithValue("$stopped_at", (object?)experiment.StoppedAt?.ToUnixTimeMilliseconds() ?? DBNull.Value);
            return await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }, cancellationToken);

    public Task<IngestResult> RecordExposuresAsync(IReadOnlyList<Exposure> exposures, CancellationToken cancellationToken = default) =>
        WriteAsync(async (connection, tx) =>
        {
            await using var cmd = connection.CreateCommand();
            cmd.Transaction = tx;
            cmd.CommandText = "INSERT OR IGNORE INTO exposures (experiment, user_id, variant, ts) VALUES ($experiment, $user_id, $variant, $ts)";
            var p = Parameters(cmd, "$experiment", "$user_id", "$variant", "$ts");
            var stored = 0;
            foreach (var x in exposures)
            {
                cancellationToken.ThrowIfCancellationRequested();
                p[0].Value = x.Experiment;
                p[1].Value = x.UserId;
                p[2].Value = x.Variant;
                p[3].Value = x.Timestamp.ToUnixTimeMilliseconds();
                stored += await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            return new IngestResult(exposures.Count, stored, exposures.Count - stored);
        }, cancellationToken);

    // ---- reads ----

    private const string ItemColumns = "id, title, description, category, brand, price, cost, in_stock, created_at, attributes";
    private const string EventColumns = "event_id, user_id, item_id, type, ts, surface, query, context_item_id, price, quantity, session_id, value";
    private const string ExperimentColumns = "name, salt, layer, variants, created_at, status, coverage, layer_offset, layer_share, targeting, started_at, stopped_at";
    private const string SendColumns = "send_id, campaign_id, user_id, channel, sent_at, is_treatment, variant";

    public async Task<Item?> GetItemAsync(string id, CancellationToken cancellationToken = default)
    {
        await foreach (var item in QueryAsync($"SELECT {ItemColumns} FROM items WHERE id = $p0", Rows.Item, cancellationToken, id).ConfigureAwait(false))
        {
            return item;
        }

        return null;
    }

    public async Task<IReadOnlyList<Item>> ListItemsAsync(string? categoryPrefix, int offset, int limit, CancellationToken cancellationToken = default)
    {
        var list = new List<Item>();
        var sql = string.IsNullOrEmpty(categoryPrefix)
            ? $"SELECT {ItemColumns} FROM items ORDER BY id LIMIT $p0 OFFSET $p1"
            : $"SELECT {ItemColumns} FROM items WHERE category = $p2 OR substr(category, 1, length($p2) + 1) = $p2 || '/' ORDER BY id LIMIT $p0 OFFSET $p1";
        await foreach (var item in QueryAsync(sql, Rows.Item, cancellationToken, limit, offset, categoryPrefix ?? "").ConfigureAwait(false))
        {
            list.Add(item);
        }

        return list;
    }

    public IAsyncEnumerable<Item> ReadItemsAsync(CancellationToken cancellationToken = default) =>
        QueryAsync($"SELECT {ItemColumns} FROM items ORDER BY id", Rows.Item, cancellationToken);

    public Task<long> CountItemsAsync(CancellationToken cancellationToken = default) => CountAsync("items", cancellationToken);

    public async Task<User?> GetUserAsync(string id, CancellationToken cancellationToken = default)
    {
        await foreach (var user in QueryAsync("SELECT id, attributes, consent FROM users WHERE id = $p0", Rows.User, cancellationToken, id).ConfigureAwait(false))
        {
            return user;
        }

        return null;
    }

    public IAsyncEnumerable<User> ReadUsersAsync(CancellationToken cancellationToken = default) =>
        QueryAsync("SELECT id, attributes, consent FROM users ORDER BY id", Rows.User, cancellationToken);

    public Task<long> CountUsersAsync(CancellationToken cancellationToken = default) => CountAsync("users", cancellationToken);

    public IAsyncEnumerable<UserEvent> ReadEventsAsync(CancellationToken cancellationToken = default) =>
        QueryAsync($"SELECT {EventColumns} FROM events ORDER BY seq", Rows.Event, cancellationToken);

    public async Task<IReadOnlyList<UserEvent>> GetUserEventsAsync(string userId, int limit, CancellationToken cancellationToken = default)
    {
        var list = new List<UserEvent>();
        var sql = $"SELECT {EventColumns} FROM (SELECT * FROM events WHERE user_id = $p0 ORDER BY ts DESC, seq DESC LIMIT $p1) ORDER BY ts, seq";
        await foreach (var e in QueryAsync(sql, Rows.Event, cancellationToken, userId, limit).ConfigureAwait(false))
        {
            list.Add(e);
        }

        return list;
    }

    public Task<long> CountEventsAsync(CancellationToken cancellationToken = default) => CountAsync("events", cancellationToken);

    public async Task<CrmCampaign?> GetCampaignAsync(string id, CancellationToken cancellationToken = default)
    {
        await foreach (var c in QueryAsync("SELECT id, name, channel, started_at, description FROM crm_campaigns WHERE id = $p0", Rows.Campaign, cancellationToken, id).ConfigureAwait(false))
        {
            return c;
        }

        return null;
    }

    public IAsyncEnumerable<CrmSend> ReadSendsAsync(string? campaignId, CancellationToken cancellationToken = default) =>
        campaignId is null
            ? QueryAsync($"SELECT {SendColumns} FROM crm_sends ORDER BY seq", Rows.Send, cancellationToken)
            : QueryAsync($"SELECT {SendColumns} FROM crm_sends WHERE campaign_id = $p0 ORDER BY seq", Rows.Send, cancellationToken, campaignId);

    public IAsyncEnumerable<CrmOutcome> ReadOutcomesAsync(string? campaignId, CancellationToken cancellationToken = default) =>
        campaignId is null
            ? QueryAsync("SELECT send_id, type, ts, value FROM crm_outcomes ORDER BY seq", Rows.Outcome, cancellationToken)
            : QueryAsync(
                "SELECT o.send_id, o.type, o.ts, o.value FROM crm_outcomes o JOIN crm_sends s ON s.send_id = o.send_id WHERE s.campaign_id = $p0 ORDER BY o.seq",
                Rows.Outcome, cancellationToken, campaignId);

    public Task<long> CountSendsAsync(CancellationToken cancellationToken = default) => CountAsync("crm_sends", cancellationToken);

    public Task<long> CountOutcomesAsync(CancellationToken cancellationToken = default) => CountAsync("crm_outcomes", cancellationToken);

    public Task SavePlanAsync(CrmPlanDocument plan, CancellationToken cancellationToken = default) =>
        WriteAsync(async (connection, tx) =>
        {
            await using var cmd = connection.CreateCommand();
            cmd.Transaction = tx;
            cmd.CommandText = """
                INSERT INTO crm_plans (campaign_id, plan, created_at) VALUES ($id, $plan, $created_at)
                ON CONFLICT (campaign_id) DO UPDATE SET plan = excluded.plan, created_at = excluded.created_at
                """;
            cmd.Parameters.AddWithValue("$id", plan.CampaignId);
            cmd.Parameters.AddWithValue("$plan", plan.Json);
            cmd.Parameters.AddWithValue("$created_at", plan.CreatedAt.ToUnixTimeMilliseconds());
            return await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }, cancellationToken);

    public async Task<CrmPlanDocument?> GetPlanAsync(string campaignId, CancellationToken cancellationToken = default)
    {
        await foreach (var plan in QueryAsync("SELECT campaign_id, plan, created_at FROM crm_plans WHERE campaign_id = $p0", Rows.Plan, cancellationToken, campaignId).ConfigureAwait(false))
        {
            return plan;
        }

        return null;
    }

    public async Task<Experiment?> GetExperimentAsync(string name, CancellationToken cancellationToken = default)
    {
        await foreach (var x in QueryAsync($"SELECT {ExperimentColumns} FROM experiments WHERE name = $p0", Rows.Experiment, cancellationToken, name).ConfigureAwait(false))
        {
            return x;
        }

        return null;
    }

    public async Task<IReadOnlyList<Experiment>> ListExperimentsAsync(CancellationToken cancellationToken = default)
    {
        var list = new List<Experiment>();
        await foreach (var x in QueryAsync($"SELECT {ExperimentColumns} FROM experiments ORDER BY name", Rows.Experiment, cancellationToken).ConfigureAwait(false))
        {
            list.Add(x);
        }

        return list;
    }

    public IAsyncEnumerable<Exposure> ReadExposuresAsync(string experiment, CancellationToken cancellationToken = default) =>
        QueryAsync("SELECT experiment, user_id, variant, ts FROM exposures WHERE experiment = $p0 ORDER BY seq", Rows.Exposure, cancellationToken, experiment);

    // ---- plumbing ----

    private async Task<long> CountAsync(string table, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = $"SELECT count(*) FROM {table}";
        return (long)(await cmd.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }

    private async IAsyncEnumerable<T> QueryAsync<T>(
        string sql, Func<SqliteDataReader, T> read, [EnumeratorCancellation] CancellationToken cancellationToken, params object[] args)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = sql;
        for (var i = 0; i < args.Length; i++)
        {
            cmd.Parameters.AddWithValue("$p" + i.ToString(System.Globalization.CultureInfo.InvariantCulture), args[i]);
        }

        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            yield return read(reader);
        }
    }

    private static SqliteParameter[] Parameters(SqliteCommand cmd, params string[] names)
    {
        var list = new SqliteParameter[names.Length];
        for (var i = 0; i < names.Length; i++)
        {
            list[i] = cmd.Parameters.Add(new SqliteParameter { ParameterName = names[i] });
        }

        return list;
    }
}
