namespace Assistant.Api.Storage.Postgres;

/// <summary>The PostgreSQL schema as an ordered list of migrations, applied on start under an advisory lock.</summary>
internal static class PostgresSchema
{
    public static readonly IReadOnlyList<string> Migrations =
    [
        // 1: the foundation tables. seq keeps insertion order (file order of ties in time).
        """
        CREATE TABLE items (
            id text NOT NULL PRIMARY KEY,
            title text NOT NULL,
            description text NOT NULL,
            category text NOT NULL,
            brand text,
            price double precision,
            cost double precision,
            in_stock boolean NOT NULL,
            created_at timestamptz NOT NULL,
            attributes jsonb NOT NULL);
        CREATE INDEX items_category ON items (category text_pattern_ops);
        CREATE TABLE users (
            id text NOT NULL PRIMARY KEY,
            attributes jsonb NOT NULL,
            consent jsonb NOT NULL);
        CREATE TABLE events (
            seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            event_id text NOT NULL UNIQUE,
            user_id text NOT NULL,
            item_id text,
            type text NOT NULL,
            ts timestamptz NOT NULL,
            surface text,
            query text,
            context_item_id text,
            price double precision,
            quantity integer,
            session_id text,
            value double precision);
        CREATE INDEX events_user_ts ON events (user_id, ts);
        CREATE TABLE crm_campaigns (
            id text NOT NULL PRIMARY KEY,
            name text NOT NULL,
            channel text NOT NULL,
            started_at timestamptz NOT NULL,
            description text NOT NULL);
        CREATE TABLE crm_sends (
            seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            send_id text NOT NULL UNIQUE,
            campaign_id text NOT NULL,
            user_id text NOT NULL,
            channel text NOT NULL,
            sent_at timestamptz NOT NULL,
            is_treatment boolean NOT NULL,
            variant text NOT NULL);
        CREATE INDEX crm_sends_campaign ON crm_sends (campaign_id);
        CREATE INDEX crm_sends_user ON crm_sends (user_id);
        CREATE TABLE crm_outcomes (
            seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            send_id text NOT NULL,
            type text NOT NULL,
            ts timestamptz NOT NULL,
            value double precision,
            UNIQUE (send_id, type));
        CREATE TABLE experiments (
            name text NOT NULL PRIMARY KEY,
            salt text NOT NULL,
            layer text NOT NULL,
            variants jsonb NOT NULL,
            created_at timestamptz NOT NULL);
        CREATE TABLE exposures (
            seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            experiment text NOT NULL,
            user_id text NOT NULL,
            variant text NOT NULL,
            ts timestamptz NOT NULL,
            UNIQUE (experiment, user_id));
        """,

        // 2: experiments run: status, traffic coverage, their slice of the layer, targeting, start and stop.
        """
        ALTER TABLE experiments
            ADD COLUMN status text NOT NULL DEFAULT 'draft',
            ADD COLUMN coverage double precision NOT NULL DEFAULT 1,
            ADD COLUMN layer_offset double precision NOT NULL DEFAULT 0,
            ADD COLUMN layer_share double precision NOT NULL DEFAULT 1,
            ADD COLUMN targeting jsonb NOT NULL DEFAULT '[]',
            ADD COLUMN started_at timestamptz,
            ADD COLUMN stopped_at timestamptz;
        CREATE INDEX exposures_user ON exposures (user_id);
        """,

        // 3: campaign plans (the JSON document of POST /v1/crm/campaigns).
        """
        CREATE TABLE crm_plans (
            campaign_id text NOT NULL PRIMARY KEY,
            plan jsonb NOT NULL,
            created_at timestamptz NOT NULL);
        """,
    ];
}
