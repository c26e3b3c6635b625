-- +goose Up
-- Usage log (R6, R19): one row per disclosure, committed before the response leaves.
-- Append-only: triggers refuse UPDATE, DELETE and TRUNCATE. Partitioned by month (UTC); the
-- partitions are created ahead by usage_events_ensure_partition. Ids are UUIDv7 made by the
-- application. On a distributed PostgreSQL the table is distributed by institution and the key
-- becomes (institution, id, at); nothing joins it by foreign key.
CREATE TABLE usage_events (
    id           uuid NOT NULL,
    at           timestamptz NOT NULL,
    institution  text NOT NULL,            -- institution code, or PLATFORM for operators
    actor        text NOT NULL,            -- the token's sub
    uscc         text NOT NULL,            -- the subject
    item         text NOT NULL,
    provider     text NOT NULL,            -- the item's provider
    action       text NOT NULL CHECK (action IN ('VIEW', 'REPORT', 'VERIFY', 'SCORE', 'BATCH', 'OPERATOR_VIEW')),
    purpose      text,
    grant_id     uuid,
    record_count integer NOT NULL CHECK (record_count >= 0),
    request_id   text NOT NULL,
    PRIMARY KEY (id, at)
) PARTITION BY RANGE (at);
-- The subject's access log, newest first.
CREATE INDEX usage_events_subject ON usage_events (uscc, at DESC, id DESC);
-- Providers' feedback (summaries, detail listing) and the sequencer's per-provider scan.
CREATE INDEX usage_events_provider ON usage_events (provider, at, id);
-- The sequencer's recent window; tiny, since rows arrive in time order.
CREATE INDEX usage_events_at ON usage_events USING brin (at);

-- +goose StatementBegin
CREATE FUNCTION usage_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the usage log is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$;
-- +goose StatementEnd

-- Row triggers of a partitioned table are cloned to every partition; TRUNCATE triggers are
-- statement triggers, so usage_events_ensure_partition adds one to each partition.
CREATE TRIGGER usage_events_append_only BEFORE UPDATE OR DELETE ON usage_events
    FOR EACH ROW EXECUTE FUNCTION usage_refuse_change();
CREATE TRIGGER usage_events_no_truncate BEFORE TRUNCATE ON usage_events
    FOR EACH STATEMENT EXECUTE FUNCTION usage_refuse_change();

-- usage_events_ensure_partition creates the partition holding the given month (UTC), with its
-- TRUNCATE guard, unless it exists, and returns its name. Safe to call concurrently.
-- +goose StatementBegin
CREATE FUNCTION usage_events_ensure_partition(month date) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    first date := make_date(extract(year FROM month)::int, extract(month FROM month)::int, 1);
    next  date := (first + interval '1 month')::date;
    name  text := 'usage_events_' || to_char(first, 'YYYYMM');
BEGIN
    IF to_regclass(name) IS NOT NULL THEN
        RETURN name;
    END IF;
    PERFORM pg_advisory_xact_lock(hashtextextended('creditd.usage_events.partition', 0));
    IF to_regclass(name) IS NOT NULL THEN
        RETURN name;
    END IF;
    -- Creating a partition locks the parent: never queue inserts behind a long reader.
    PERFORM set_config('lock_timeout', '5s', true);
    EXECUTE format('CREATE TABLE %I PARTITION OF usage_events FOR VALUES FROM (%L) TO (%L)', name,
        make_timestamptz(extract(year FROM first)::int, extract(month FROM first)::int, 1, 0, 0, 0, 'UTC'),
        make_timestamptz(extract(year FROM next)::int, extract(month FROM next)::int, 1, 0, 0, 0, 'UTC'));
    EXECUTE format('CREATE TRIGGER usage_events_no_truncate BEFORE TRUNCATE ON %I FOR EACH STATEMENT EXECUTE FUNCTION usage_refuse_change()', name);
    RETURN name;
END
$$;
-- +goose StatementEnd

SELECT usage_events_ensure_partition((date_trunc('month', now() AT TIME ZONE 'UTC') + m * interval '1 month')::date)
FROM generate_series(-2, 3) AS m;

-- Tamper evidence: per provider, a hash chain over its events in seal order
-- (hash = SHA-256(prev_hash || canonical event bytes)) and signed checkpoints of its head.
-- Keyed by provider. Append-only like the events.
CREATE TABLE usage_chain (
    provider  text NOT NULL,
    seq       bigint NOT NULL CHECK (seq > 0),
    event_id  uuid NOT NULL,
    event_at  timestamptz NOT NULL,
    hash      bytea NOT NULL,
    prev_hash bytea NOT NULL,
    sealed_at timestamptz NOT NULL,
    PRIMARY KEY (provider, seq),
    UNIQUE (provider, event_id)
);
CREATE TRIGGER usage_chain_append_only BEFORE UPDATE OR DELETE ON usage_chain
    FOR EACH ROW EXECUTE FUNCTION usage_refuse_change();
CREATE TRIGGER usage_chain_no_truncate BEFORE TRUNCATE ON usage_chain
    FOR EACH STATEMENT EXECUTE FUNCTION usage_refuse_change();

CREATE TABLE usage_checkpoints (
    provider text NOT NULL,
    size     bigint NOT NULL CHECK (size > 0),
    head     bytea NOT NULL,
    at       timestamptz NOT NULL,
    jws      text NOT NULL,               -- typ usage-checkpoint+jwt, signed with the platform key
    PRIMARY KEY (provider, size)
);
CREATE TRIGGER usage_checkpoints_append_only BEFORE UPDATE OR DELETE ON usage_checkpoints
    FOR EACH ROW EXECUTE FUNCTION usage_refuse_change();
CREATE TRIGGER usage_checkpoints_no_truncate BEFORE TRUNCATE ON usage_checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION usage_refuse_change();

-- The sequencer's progress (one row): every committed event older than sealed_until was
-- considered; an event older than complete_before that is not in the chain will never be
-- sealed (it was inserted afterwards), which verification reports.
CREATE TABLE usage_seal_state (
    singleton       boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    sealed_until    timestamptz NOT NULL,
    complete_before timestamptz NOT NULL
);

-- Providers' webhooks and the durable outbox of usage batches pushed to them. Keyed by provider.
CREATE TABLE usage_webhooks (
    provider   text PRIMARY KEY,
    url        text NOT NULL,
    secret     text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE usage_deliveries (
    provider        text NOT NULL,
    id              uuid NOT NULL,
    payload         jsonb NOT NULL,
    created_at      timestamptz NOT NULL,
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    delivered_at    timestamptz,
    last_error      text,
    PRIMARY KEY (provider, id)
);
CREATE INDEX usage_deliveries_pending ON usage_deliveries (provider, id) WHERE delivered_at IS NULL;
CREATE INDEX usage_deliveries_due ON usage_deliveries (next_attempt_at) WHERE delivered_at IS NULL;

-- +goose Down
DROP TABLE usage_deliveries;
DROP TABLE usage_webhooks;
DROP TABLE usage_seal_state;
DROP TABLE usage_checkpoints;
DROP TABLE usage_chain;
DROP TABLE usage_events;
DROP FUNCTION usage_events_ensure_partition(date);
DROP FUNCTION usage_refuse_change();
