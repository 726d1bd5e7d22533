namespace Assistant.Api.Storage.Sqlite;

/// <summary>The SQLite schema as an ordered list of migrations; a file records how many it has applied.</summary>
internal static class SqliteSchema
{
    public static readonly IReadOnlyList<string> Migrations =
    [
        // 1: the foundation tables. seq keeps insertion order (file order of ties in time).
        """
        CREATE TABLE items (
            id TEXT NOT NULL PRIMARY KEY,
            title TEXT NOT NULL,
            description TEXT NOT NULL,
            category TEXT NOT NULL,
            brand TEXT,
            price REAL,
            cost REAL,
            in_stock INTEGER NOT NULL,
            created_at INTEGER NOT NULL,
            attributes TEXT NOT NULL);
        CREATE INDEX items_category ON items (category);
        CREATE TABLE users (
            id TEXT NOT NULL PRIMARY KEY,
            attributes TEXT NOT NULL,
            consent TEXT NOT NULL);
        CREATE TABLE events (
            seq INTEGER PRIMARY KEY,
            event_id TEXT NOT NULL UNIQUE,
            user_id TEXT NOT NULL,
            item_id TEXT,
            type TEXT NOT NULL,
            ts INTEGER NOT NULL,
            surface TEXT,
            query TEXT,
            context_item_id TEXT,
            price REAL,
            quantity INTEGER,
            session_id TEXT,
            value REAL);
        CREATE INDEX events_user_ts ON events (user_id, ts);
        CREATE TABLE crm_campaigns (
            id TEXT NOT NULL PRIMARY KEY,
            name TEXT NOT NULL,
            channel TEXT NOT NULL,
            started_at INTEGER NOT NULL,
            description TEXT NOT NULL);
        CREATE TABLE crm_sends (
            seq INTEGER PRIMARY KEY,
            send_id TEXT NOT NULL UNIQUE,
            campaign_id TEXT NOT NULL,
            user_id TEXT NOT NULL,
            channel TEXT NOT NULL,
            sent_at INTEGER NOT NULL,
            is_treatment INTEGER NOT NULL,
            variant TEXT NOT NULL);
        CREATE INDEX crm_sends_campaign ON crm_sends (campaign_id);
        CREATE INDEX crm_sends_user ON crm_sends (user_id);
        CREATE TABLE crm_outcomes (
            seq INTEGER PRIMARY KEY,
            send_id TEXT NOT NULL,
            type TEXT NOT NULL,
            ts INTEGER NOT NULL,
            value REAL,
            UNIQUE (send_id, type));
        CREATE TABLE experiments (
            name TEXT NOT NULL PRIMARY KEY,
            salt TEXT NOT NULL,
            layer TEXT NOT NULL,
            variants TEXT NOT NULL,
            created_at INTEGER NOT NULL);
        CREATE TABLE exposures (
            seq INTEGER PRIMARY KEY,
            experiment TEXT NOT NULL,
            user_id TEXT NOT NULL,
            variant TEXT NOT NULL,
            ts INTEGER NOT NULL,
            UNIQUE (experiment, user_id));
        """,

        // 2: experiments run: status, traffic coverage, their slice of the layer, targeting, start and stop.
        """
        ALTER TABLE experiments ADD COLUMN status TEXT NOT NULL DEFAULT 'draft';
        ALTER TABLE experiments ADD COLUMN coverage REAL NOT NULL DEFAULT 1;
        ALTER TABLE experiments ADD COLUMN layer_offset REAL NOT NULL DEFAULT 0;
        ALTER TABLE experiments ADD COLUMN layer_share REAL NOT NULL DEFAULT 1;
        ALTER TABLE experiments ADD COLUMN targeting TEXT NOT NULL DEFAULT '[]';
        ALTER TABLE experiments ADD COLUMN started_at INTEGER;
        ALTER TABLE experiments ADD COLUMN stopped_at INTEGER;
        CREATE INDEX exposures_user ON exposures (user_id);
        """,

        // 3: campaign plans (the JSON document of POST /v1/crm/campaigns).
        """
        CREATE TABLE crm_plans (
            campaign_id TEXT NOT NULL PRIMARY KEY,
            plan TEXT NOT NULL,
            created_at INTEGER NOT NULL);
        """,
    ];
}
