-- +goose Up
-- Chinese substring search uses a trigram index: the database must have a UTF-8 ctype
-- (e.g. CREATE DATABASE creditd TEMPLATE template0 ENCODING 'UTF8' LC_CTYPE 'C.UTF-8'),
-- or CJK characters yield no trigrams. `creditd migrate` refuses other databases.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- Reference tables (small, replicated to every node on a distributed PostgreSQL).
CREATE TABLE institutions (
    code        text PRIMARY KEY,
    name        text NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('bank', 'guarantor', 'insurer', 'credit_agency', 'other')),
    status      text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE providers (
    code        text PRIMARY KEY,
    name        text NOT NULL,
    status      text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- Enterprises, keyed by USCC (distribution key). Maintained from registration.basic records.
CREATE TABLE enterprises (
    uscc          text PRIMARY KEY,
    name          text NOT NULL,
    region_code   text,
    industry_code text,
    size          text,
    subject_type  text,
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX enterprises_name_trgm ON enterprises USING gin (name gin_trgm_ops);
CREATE INDEX enterprises_region ON enterprises (region_code, uscc);
CREATE INDEX enterprises_industry ON enterprises (industry_code, uscc);

-- Credit records, keyed by the subject's USCC. Ids are application-generated UUIDv7.
-- Idempotency key: (uscc, provider, item, source_id); a source id belongs to one USCC per
-- (provider, item), which the loader checks under a per-(provider, item) advisory lock.
CREATE TABLE records (
    uscc         text NOT NULL,
    id           uuid NOT NULL,
    provider     text NOT NULL,
    item         text NOT NULL,
    source_id    text NOT NULL,
    occurred_on  date NOT NULL,
    ends_on      date,
    data         jsonb NOT NULL,
    content_hash bytea NOT NULL,
    version      integer NOT NULL DEFAULT 1,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (uscc, id),
    UNIQUE (uscc, provider, item, source_id)
);
CREATE INDEX records_source ON records (provider, item, source_id);
CREATE INDEX records_subject_item ON records (uscc, item, occurred_on);

-- Earlier versions of corrected records (history is kept, R19).
CREATE TABLE record_versions (
    uscc          text NOT NULL,
    record_id     uuid NOT NULL,
    version       integer NOT NULL,
    occurred_on   date NOT NULL,
    ends_on       date,
    data          jsonb NOT NULL,
    superseded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (uscc, record_id, version)
);

-- +goose Down
DROP TABLE record_versions;
DROP TABLE records;
DROP TABLE enterprises;
DROP TABLE providers;
DROP TABLE institutions;
