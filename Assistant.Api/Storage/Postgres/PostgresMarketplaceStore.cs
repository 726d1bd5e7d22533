using System.Runtime.CompilerServices;
using Npgsql;
using NpgsqlTypes;
using Ranking.Data;
using Ranking.Domain;

namespace Assistant.Api.Storage.Postgres;

/// <summary>
/// The store at scale: PostgreSQL through one <see cref="NpgsqlDataSource"/>. Batches arrive by binary COPY into a
/// temporary table and move into the real one with <c>INSERT ... ON CONFLICT DO NOTHING</c>, which makes ingest
/// idempotent and keeps batch order in <c>seq</c>. Each batch is one transaction. Migrations run on start under an
/// advisory lock, so several replicas can start at once.
/// </summary>
public sealed class PostgresMarketplaceStore(NpgsqlDataSource dataSource) : IMarketplaceStore
{
    // Any constant shared by all replicas; it only needs to differ from other applications' advisory locks.
    private const long MigrationLockKey = 0x4153_5349_5354_414E;

    private static StoreRows Rows => StoreRows.Postgres;

    public string Kind => "postgresql";

    public NpgsqlDataSource DataSource => dataSource;

    public async Task InitializeAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, null, $"SELECT pg_advisory_lock({MigrationLockKey})", cancellationToken).ConfigureAwait(false);
        try
        {
            await ExecuteAsync(connection, null, "CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())", cancellationToken).ConfigureAwait(false);
            await using var read = new NpgsqlCommand("SELECT coalesce(max(version), 0) FROM schema_version", connection);
            var current = (int)(await read.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
            for (var v = current; v < PostgresSchema.Migrations.Count; v++)
            {
                await using var tx = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
                await ExecuteAsync(connection, tx, PostgresSchema.Migrations[v], cancellationToken).ConfigureAwait(false);
                await using var mark = new NpgsqlCommand("INSERT INTO schema_version (version) VALUES ($1)", connection, tx);
                mark.Parameters.Add(new NpgsqlParameter<int> { TypedValue = v + 1 });
                await mark.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            await ExecuteAsync(connection, null, $"SELECT pg_advisory_unlock({MigrationLockKey})", CancellationToken.None).ConfigureAwait(false);
        }
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction? tx, string sql, CancellationToken cancellationToken)
    {
        await using var cmd = new NpgsqlCommand(sql, connection, tx);
        await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    // ---- writes ----

    private async Task<T> InTransactionAsync<T>(Func<NpgsqlConnection, NpgsqlTransaction, Task<T>> work, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        var result = await work(connection, tx).ConfigureAwait(false);
        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
        return result;
    }

    public Task<int> UpsertItemsAsync(IReadOnlyList<Item> items, CancellationToken cancellationToken = default) =>
        InTransactionAsync(async (connection, tx) =>
        {
            // ON CONFLICT DO UPDATE may not touch a row twice in one statement: the last version of an id wins.
            var last = LastById(items, i => i.Id);
            await ExecuteAsync(connection, tx, "CREATE TEMP TABLE tmp_items (LIKE items) ON COMMIT DROP", cancellationToken).ConfigureAwait(false);
            await using (var copy = await connection.BeginBinaryImportAsync(
                "COPY tmp_items (id, title, description, category, brand, price, cost, in_stock, created_at, attributes) FROM STDIN (FORMAT BINARY)",
                cancellationToken).ConfigureAwait(false))
            {
                foreach (var item in last)
                {
                    await copy.StartRowAsync(cancellationToken).ConfigureAwait(false);
                    await copy.WriteAsync(item.Id, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
                    await copy.WriteAsync(item.Title, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
                    await copy.WriteAsync(item.Description, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
                    await copy.WriteAsync(item.Category, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
                    await WriteNullableAsync(copy, item.Brand, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
                    await WriteNullableAsync(copy, item.Price, NpgsqlDbType.Double, cancellationToken).ConfigureAwait(false);
                    await WriteNullableAsync(copy, item.Cost, NpgsqlDbType.Double, cancellationToken).ConfigureAwait(false);
                    await copy.WriteAsync(item.InStock, NpgsqlDbType.Boolean, cancellationToken).ConfigureAwait(false);
                    await copy.WriteAsync(item.CreatedAt.UtcDateTime, NpgsqlDbType.TimestampTz, cancellationToken).ConfigureAwait(false);
                    await copy.WriteAsync(StorageJson.Write(item.Attributes), NpgsqlDbType.Jsonb, cancellationToken).ConfigureAwait(false);
                }

                await copy.CompleteAsync(cancellationToken).ConfigureAwait(false);
            }

            await ExecuteAsync(connection, tx, """
                INSERT INTO items SELECT * FROM tmp_items
                ON CONFLICT (id) DO UPDATE SET title = excluded.title, description = excluded.description,
                    category = excluded.category, brand = excluded.brand, price = excluded.price, cost = excluded.cost,
                    in_stock = excluded.in_stock, created_at = excluded.created_at, attributes = excluded.attributes
                """, cancellationToken).ConfigureAwait(false);
            return items.Count;
        }, cancellationToken);

    public Task<int> UpsertUsersAsync(IReadOnlyList<User> users, CancellationToken cancellationToken = default) =>
        InTransactionAsync(async (connection, tx) =>
        {
            var last = LastById(users, u => u.Id);
            await ExecuteAsync(connection, tx, "CREATE TEMP TABLE tmp_users (LIKE users) ON COMMIT DROP", cancellationToken).ConfigureAwait(false);
            await using (var copy = await connection.BeginBinaryImportAsync("COPY tmp_users (id, attributes, consent) FROM STDIN (FORMAT BINARY)", cancellationToken).ConfigureAwait(false))
            {
                foreach (var user in last)
                {
                    await copy.StartRowAsync(cancellationToken).ConfigureAwait(false);
                    await copy.WriteAsync(user.Id, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
                    await copy.WriteAsync(StorageJson.Write(user.Attributes), NpgsqlDbType.Jsonb, cancellationToken).ConfigureAwait(false);
                    await copy.WriteAsync(StorageJson.Write(user.Consent), NpgsqlDbType.Jsonb, cancellationToken).ConfigureAwait(false);
                }

                await copy.CompleteAsync(cancellationToken).ConfigureAwait(false);
            }

            await ExecuteAsync(connection, tx, """
                INSERT INTO users SELECT * FROM tmp_users
                ON CONFLICT (id) DO UPDATE SET attributes = excluded.attributes, consent = excluded.consent
                """, cancellationToken).ConfigureAwait(false);
            return users.Count;
        }, cancellationToken);

    public Task<IngestResult> AppendEventsAsync(IReadOnlyList<UserEvent> events, CancellationToken cancellationToken = default) =>
        InTransactionAsync(async (connection, tx) =>
        {
            await ExecuteAsync(connection, tx, """
                CREATE TEMP TABLE tmp_events (ord integer NOT NULL, event_id text NOT NULL, user_id text NOT NULL, item_id text,
                    type text NOT NULL, ts timestamptz NOT NULL, surface text, query text, context_item_id text,
                    price double precision, quantity integer, session_id text, value double precision) ON COMMIT DROP
                """, cancellationToken).ConfigureAwait(false);
            await using (var copy = await connection.BeginBinaryImportAsync(
                "COPY tmp_events (ord, event_id, user_id, item_id, type, ts, surface, query, context_item_id, price, quantity, session_id, value) FROM STDIN (FORMAT BINARY)",
                cancellationToken).ConfigureAwait(false))
            {
                for (var i = 0; i < events.Count; i++)
                {
                    var e = events[i];
                    await copy.StartRowAsync(cancellationToken).ConfigureAwait(false);
                    await copy.WriteAsync(i, NpgsqlDbType.Integer, cancellationToken).ConfigureAwait(false);
                    await copy.WriteAsync(e.EventId, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
                    await copy.WriteAsync(e.UserId, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
                    await WriteNullableAsync(copy, e.ItemId, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
                    await copy.WriteAsync(e.Type, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
                    await copy.WriteAsync(e.Timestamp.UtcDateTime, NpgsqlDbType.TimestampTz, cancellationToken).ConfigureAwait(false);
                    await WriteNullableAsync(copy, e.Surface, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
                    await WriteNullableAsync(copy, e.Query, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
                    await WriteNullableAsync(copy, e.ContextItemId, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
                    await WriteNullableAsync(copy, e.Price, NpgsqlDbType.Double, cancellationToken).ConfigureAwait(false);
                    await WriteNullableAsync(copy, e.Quantity, NpgsqlDbType.Integer, cancellationToken).ConfigureAwait(false);
                    await WriteNullableAsync(copy, e.SessionId, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
                    await WriteNullableAsync(copy, e.Value, NpgsqlDbType.Double, cancellationToken).ConfigureAwait(false);
                }

                await copy.CompleteAsync(cancellationToken).ConfigureAwait(false);
            }

            await using var move = new NpgsqlCommand("""
                WITH ins AS (
                    INSERT INTO events (event_id, user_id, item_id, type, ts, surface, query, context_item_id, price, quantity, session_id, value)
                    SELECT event_id, user_id, item_id, type, ts, surface, query, context_item_id, price, quantity, session_id, value
                    FROM tmp_events ORDER BY ord
                    ON CONFLICT (event_id) DO NOTHING
                    RETURNING item_id)
                SELECT count(*)::int,
                       count(*) FILTER (WHERE ins.item_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM items i WHERE i.id = ins.item_id))::int
                FROM ins
                """, connection, tx);
            await using var reader = await move.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            var stored = reader.GetInt32(0);
            var unknown = reader.GetInt32(1);
            return new IngestResult(events.Count, stored, events.Count - stored, unknown);
        }, cancellationToken);

    public Task UpsertCampaignAsync(CrmCampaign campaign, CancellationToken cancellationToken = default) =>
        InTransactionAsync(async (connection, tx) =>
        {
            await using var cmd = new NpgsqlCommand("""
                INSERT INTO crm_campaigns (id, name, channel, started_at, description) VALUES ($1, $2, $3, $4, $5)
                ON CONFLICT (id) DO UPDATE SET name = excluded.name, channel = excluded.channel, started_at = excluded.started_at, description = excluded.description
                """, connection, tx);
            cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = campaign.Id });
            cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = campaign.Name });
            cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = campaign.Channel });
            cmd.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = campaign.StartedAt.UtcDateTime });
            cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = campaign.Description });
            return await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }, cancellationToken);

    public Task<IngestResult> AppendSendsAsync(IReadOnlyList<CrmSend> sends, CancellationToken cancellationToken = default) =>
        InTransactionAsync(async (connection, tx) =>
        {
            await ExecuteAsync(connection, tx, """
                CREATE TEMP TABLE tmp_sends (ord integer NOT NULL, send_id text NOT NULL, campaign_id text NOT NULL, user_id text NOT NULL,
                    channel text NOT NULL, sent_at timestamptz NOT NULL, is_treatment boolean NOT NULL, variant text NOT NULL) ON COMMIT DROP
                """, cancellationToken).ConfigureAwait(false);
            await using (var copy = await connection.BeginBinaryImportAsync(
                "COPY tmp_sends (ord, send_id, campaign_id, user_id, channel, sent_at, is_treatment, variant) FROM STDIN (FORMAT BINARY)", cancellationToken).ConfigureAwait(false))
            {
                for (var i = 0; i < sends.Count; i++)
                {
                    var s = sends[i];
                    await copy.StartRowAsync(cancellationToken).ConfigureAwait(false);
                    await copy.WriteAsync(i, NpgsqlDbType.Integer, cancellationToken).ConfigureAwait(false);
                    await copy.WriteAsync(s.SendId, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
                    await copy.WriteAsync(s.CampaignId, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
                    await copy.WriteAsync(s.UserId, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
                    await copy.WriteAsync(s.Channel, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
                    await copy.WriteAsync(s.SentAt.UtcDateTime, NpgsqlDbType.TimestampTz, cancellationToken).ConfigureAwait(false);
                    await copy.WriteAsync(s.IsTreatment, NpgsqlDbType.Boolean, cancellationToken).ConfigureAwait(false);
                    await copy.WriteAsync(s.Variant, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
                }

                await copy.CompleteAsync(cancellationToken).ConfigureAwait(false);
            }

            var stored = await CountInsertedAsync(connection, tx, """
                INSERT INTO crm_sends (send_id, campaign_id, user_id, channel, sent_at, is_treatment, variant)
                SELECT send_id, campaign_id, user_id, channel, sent_at, is_treatment, variant FROM tmp_sends ORDER BY ord
                ON CONFLICT (send_id) DO NOTHING
                """, cancellationToken).ConfigureAwait(false);
            return new IngestResult(sends.Count, stored, sends.Count - stored);
        }, cancellationToken);

    public Task<IngestResult> AppendOutcomesAsync(IReadOnlyList<CrmOutcome> outcomes, CancellationToken cancellationToken = default) =>
        InTransactionAsync(async (connection, tx) =>
        {
            await ExecuteAsync(connection, tx, """
                CREATE TEMP TABLE tmp_outcomes (ord integer NOT NULL, send_id text NOT NULL, type text NOT NULL, ts timestamptz NOT NULL, value double precision) ON COMMIT DROP
                """, cancellationToken).ConfigureAwait(false);
            await using (var copy = await connection.BeginBinaryImportAsync("COPY tmp_outcomes (ord, send_id, type, ts, value) FROM STDIN (FORMAT BINARY)", cancellationToken).ConfigureAwait(false))
            {
                for (var i = 0; i < outcomes.Count; i++)
                {
                    var o = outcomes[i];
                    await copy.StartRowAsync(cancellationToken).ConfigureAwait(false);
                    await copy.WriteAsync(i, NpgsqlDbType.Integer, cancellationToken).ConfigureAwait(false);
                    await copy.WriteAsync(o.SendId, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
                    await copy.WriteAsync(o.Type, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
                    await copy.WriteAsync(o.Timestamp.UtcDateTime, NpgsqlDbType.TimestampTz, cancellationToken).ConfigureAwait(false);
                    await WriteNullableAsync(copy, o.Value, NpgsqlDbType.Double, cancellationToken).ConfigureAwait(false);
                }

                await copy.CompleteAsync(cancellationToken).ConfigureAwait(false);
            }

            var stored = await CountInsertedAsync(connection, tx, """
                INSERT INTO crm_outcomes (send_id, type, ts, value)
                SELECT send_id, type, ts, value FROM tmp_outcomes ORDER BY ord
                ON CONFLICT (send_id, type) DO NOTHING
                """, cancellationToken).ConfigureAwait(false);
            return new IngestResult(outcomes.Count, stored, outcomes.Count - stored);
        }, cancellationToken);

    public Task UpsertExperimentAsync(Experiment experiment, CancellationToken cancellationToken = default) =>
        InTransactionAsync(async (connection, tx) =>
        {
            await using var cmd = new NpgsqlCommand("""
                INSERT INTO experiments (name, salt, layer, variants, created_at, status, coverage, layer_offset, layer_share, targeting, started_at, stopped_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
                ON CONFLICT (name) DO UPDATE SET salt = excluded.salt, layer = excluded.layer, variants = excluded.variants, created_at = excluded.created_at,
                    status = excluded.status, coverage = excluded.coverage, layer_offset = excluded.layer_offset, layer_share = excluded.layer_share,
                    targeting = excluded.targeting, started_at = excluded.started_at, stopped_at = excluded.stopped_at
                """, connection, tx);
            cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = experiment.Name });
            cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = experiment.Salt });
            cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = experiment.Layer });
            cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = StorageJson.Write(experiment.Variants), NpgsqlDbType = NpgsqlDbType.Jsonb });
            cmd.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = experiment.CreatedAt.UtcDateTime });
            cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = StorageJson.Write(experiment.Status) });
            cmd.Parameters.Add(new NpgsqlParameter<double> { TypedValue = experiment.Coverage });
            cmd.Parameters.Add(new NpgsqlParameter<double> { TypedValue = experiment.LayerOffset });
            cmd.Parameters.Add(new NpgsqlParameter<double> { TypedValue = experiment.LayerShare });
            cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = StorageJson.Write(experiment.Targeting), NpgsqlDbType = NpgsqlDbType.Jsonb });
            cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)experiment.StartedAt?.UtcDateTime ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz });
            cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)experiment.StoppedAt?.UtcDateTime ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz });
            return await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }, cancellationToken);

    public Task<IngestResult> RecordExposuresAsync(IReadOnlyList<Exposure> exposures, CancellationToken cancellationToken = default) =>
        InTransactionAsync(async (connection, tx) =>
        {
            await using var cmd = new NpgsqlCommand("""
                INSERT INTO exposures (experiment, user_id, variant, ts)
                SELECT e, u, v, ts FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[]) WITH ORDINALITY AS t(e, u, v, ts, ord)
                ORDER BY ord
                ON CONFLICT (experiment, user_id) DO NOTHING
                """, connection, tx);
            cmd.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. exposures.Select(x => x.Experiment)] });
            cmd.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. exposures.Select(x => x.UserId)] });
            cmd.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. exposures.Select(x => x.Variant)] });
            cmd.Parameters.Add(new NpgsqlParameter<DateTime[]> { TypedValue = [.. exposures.Select(x => x.Timestamp.UtcDateTime)] });
            var stored = await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            return new IngestResult(exposures.Count, stored, exposures.Count - stored);
        }, cancellationToken);

    // ---- reads ----

    private const string ItemColumns = "id, title, description, category, brand, price, cost, in_stock, created_at, attributes::text";
    private const string EventColumns = "event_id, user_id, item_id, type, ts, surface, query, context_item_id, price, quantity, session_id, value";
    private const string ExperimentColumns = "name, salt, layer, variants::text, created_at, status, coverage, layer_offset, layer_share, targeting::text, started_at, stopped_at";
    private const string SendColumns = "send_id, campaign_id, user_id, channel, sent_at, is_treatment, variant";

    public async Task<Item?> GetItemAsync(string id, CancellationToken cancellationToken = default) =>
        await FirstAsync(QueryAsync($"SELECT {ItemColumns} FROM items WHERE id = $1", Rows.Item, cancellationToken, id), cancellationToken).ConfigureAwait(false);

    public async Task<IReadOnlyList<Item>> ListItemsAsync(string? categoryPrefix, int offset, int limit, CancellationToken cancellationToken = default)
    {
        var rows = string.IsNullOrEmpty(categoryPrefix)
            ? QueryAsync($"SELECT {ItemColumns} FROM items ORDER BY id LIMIT $1 OFFSET $2", Rows.Item, cancellationToken, limit, offset)
            : QueryAsync($"SELECT {ItemColumns} FROM items WHERE category = $3 OR starts_with(category, $3 || '/') ORDER BY id LIMIT $1 OFFSET $2", Rows.Item, cancellationToken, limit, offset, categoryPrefix);
        return await ToListAsync(rows, cancellationToken).ConfigureAwait(false);
    }

    public IAsyncEnumerable<Item> ReadItemsAsync(CancellationToken cancellationToken = default) =>
        QueryAsync($"SELECT {ItemColumns} FROM items ORDER BY id", Rows.Item, cancellationToken);

    public Task<long> CountItemsAsync(CancellationToken cancellationToken = default) => CountAsync("items", cancellationToken);

    public async Task<User?> GetUserAsync(string id, CancellationToken cancellationToken = default) =>
        await FirstAsync(QueryAsync("SELECT id, attributes::text, consent::text FROM users WHERE id = $1", Rows.User, cancellationToken, id), cancellationToken).ConfigureAwait(false);

    public IAsyncEnumerable<User> ReadUsersAsync(CancellationToken cancellationToken = default) =>
        QueryAsync("SELECT id, attributes::text, consent::text FROM users ORDER BY id", Rows.User, cancellationToken);

    public Task<long> CountUsersAsync(CancellationToken cancellationToken = default) => CountAsync("users", cancellationToken);

    public IAsyncEnumerable<UserEvent> ReadEventsAsync(CancellationToken cancellationToken = default) =>
        QueryAsync($"SELECT {EventColumns} FROM events ORDER BY seq", Rows.Event, cancellationToken);

    public async Task<IReadOnlyList<UserEvent>> GetUserEventsAsync(string userId, int limit, CancellationToken cancellationToken = default) =>
        await ToListAsync(QueryAsync(
            $"SELECT {EventColumns} FROM (SELECT * FROM events WHERE user_id = $1 ORDER BY ts DESC, seq DESC LIMIT $2) e ORDER BY ts, seq",
            Rows.Event, cancellationToken, userId, limit), cancellationToken).ConfigureAwait(false);

    public Task<long> CountEventsAsync(CancellationToken cancellationToken = default) => CountAsync("events", cancellationToken);

    public async Task<CrmCampaign?> GetCampaignAsync(string id, CancellationToken cancellationToken = default) =>
        await FirstAsync(QueryAsync("SELECT id, name, channel, started_at, description FROM crm_campaigns WHERE id = $1", Rows.Campaign, cancellationToken, id), cancellationToken).ConfigureAwait(false);

    public IAsyncEnumerable<CrmSend> ReadSendsAsync(string? campaignId, CancellationToken cancellationToken = default) =>
        campaignId is null
            ? QueryAsync($"SELECT {SendColumns} FROM crm_sends ORDER BY seq", Rows.Send, cancellationToken)
            : QueryAsync($"SELECT {SendColumns} FROM crm_sends WHERE campaign_id = $1 ORDER BY seq", Rows.Send, cancellationToken, campaignId);

    public IAsyncEnumerable<CrmOutcome> ReadOutcomesAsync(string? campaignId, CancellationToken cancellationToken = default) =>
        campaignId is null
            ? QueryAsync("SELECT send_id, type, ts, value FROM crm_outcomes ORDER BY seq", Rows.Outcome, cancellationToken)
            : QueryAsync(
                "SELECT o.send_id, o.type, o.ts, o.value FROM crm_outcomes o JOIN crm_sends s ON s.send_id = o.send_id WHERE s.campaign_id = $1 ORDER BY o.seq",
                Rows.Outcome, cancellationToken, campaignId);

    public Task<long> CountSendsAsync(CancellationToken cancellationToken = default) => CountAsync("crm_sends", cancellationToken);

    public Task SavePlanAsync(CrmPlanDocument plan, CancellationToken cancellationToken = default) =>
        InTransactionAsync(async (connection, tx) =>
        {
            await using var cmd = new NpgsqlCommand("""
                INSERT INTO crm_plans (campaign_id, plan, created_at) VALUES ($1, $2::jsonb, $3)
                ON CONFLICT (campaign_id) DO UPDATE SET plan = excluded.plan, created_at = excluded.created_at
                """, connection, tx);
            cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = plan.CampaignId });
            cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = plan.Json });
            cmd.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = plan.CreatedAt.UtcDateTime });
            return await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }, cancellationToken);

    public async Task<CrmPlanDocument?> GetPlanAsync(string campaignId, CancellationToken cancellationToken = default) =>
        await FirstAsync(QueryAsync("SELECT campaign_id, plan::text, created_at FROM crm_plans WHERE campaign_id = $1", Rows.Plan, cancellationToken, campaignId), cancellationToken).ConfigureAwait(false);

    public Task<long> CountOutcomesAsync(CancellationToken cancellationToken = default) => CountAsync("crm_outcomes", cancellationToken);

    public async Task<Experiment?> GetExperimentAsync(string name, CancellationToken cancellationToken = default) =>
        await FirstAsync(QueryAsync($"SELECT {ExperimentColumns} FROM experiments WHERE name = $1", Rows.Experiment, cancellationToken, name), cancellationToken).ConfigureAwait(false);

    public async Task<IReadOnlyList<Experiment>> ListExperimentsAsync(CancellationToken cancellationToken = default) =>
        await ToListAsync(QueryAsync($"SELECT {ExperimentColumns} FROM experiments ORDER BY name", Rows.Experiment, cancellationToken), cancellationToken).ConfigureAwait(false);

    public IAsyncEnumerable<Exposure> ReadExposuresAsync(string experiment, CancellationToken cancellationToken = default) =>
        QueryAsync("SELECT experiment, user_id, variant, ts FROM exposures WHERE experiment = $1 ORDER BY seq", Rows.Exposure, cancellationToken, experiment);

    // ---- plumbing ----

    private static List<T> LastById<T>(IReadOnlyList<T> rows, Func<T, string> id)
    {
        var at = new Dictionary<string, int>(rows.Count, StringComparer.Ordinal);
        var list = new List<T>(rows.Count);
        foreach (var row in rows)
        {
            if (at.TryGetValue(id(row), out var i))
            {
                list[i] = row;
            }
            else
            {
                at.Add(id(row), list.Count);
                list.Add(row);
            }
        }

        return list;
    }

    private static async Task<int> CountInsertedAsync(NpgsqlConnection connection, NpgsqlTransaction tx, string sql, CancellationToken cancellationToken)
    {
        await using var cmd = new NpgsqlCommand(sql, connection, tx);
        return await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private static Task WriteNullableAsync<T>(NpgsqlBinaryImporter copy, T? value, NpgsqlDbType type, CancellationToken cancellationToken)
        where T : class =>
        value is null ? copy.WriteNullAsync(cancellationToken) : copy.WriteAsync(value, type, cancellationToken);

    private static Task WriteNullableAsync<T>(NpgsqlBinaryImporter copy, T? value, NpgsqlDbType type, CancellationToken cancellationToken)
        where T : struct =>
        value is { } v ? copy.WriteAsync(v, type, cancellationToken) : copy.WriteNullAsync(cancellationToken);

    private async Task<long> CountAsync(string table, CancellationToken cancellationToken)
    {
        await using var cmd = dataSource.CreateCommand($"SELECT count(*) FROM {table}");
        return (long)(await cmd.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }

    private async IAsyncEnumerable<T> QueryAsync<T>(
        string sql, Func<NpgsqlDataReader, T> read, [EnumeratorCancellation] CancellationToken cancellationToken, params object[] args)
    {
        await using var cmd = dataSource.CreateCommand(sql);
        foreach (var arg in args)
        {
            cmd.Parameters.Add(new NpgsqlParameter { Value = arg });
        }

        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            yield return read(reader);
        }
    }

    private static async Task<T?> FirstAsync<T>(IAsyncEnumerable<T> rows, CancellationToken cancellationToken)
        where T : class
    {
        await foreach (var row in rows.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            return row;
        }

        return null;
    }

    private static async Task<IReadOnlyList<T>> ToListAsync<T>(IAsyncEnumerable<T> rows, CancellationToken cancellationToken)
    {
        var list = new List<T>();
        await foreach (var row in rows.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            list.Add(row);
        }

        return list;
    }
}
