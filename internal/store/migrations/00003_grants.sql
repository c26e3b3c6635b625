-- +goose Up
-- Authorizations (企业授权, R15): given by an enterprise to one institution. Keyed by the
-- enterprise's USCC like its records, so a grant check stays on the subject's shard.
CREATE TABLE grants (
    uscc                text NOT NULL,
    id                  uuid NOT NULL,
    institution         text NOT NULL,
    items               text[] NOT NULL CHECK (cardinality(items) > 0),
    actions             text[] NOT NULL CHECK (cardinality(actions) > 0),
    purposes            text[] NOT NULL CHECK (cardinality(purposes) > 0),
    valid_from          timestamptz NOT NULL,
    valid_until         timestamptz NOT NULL CHECK (valid_until > valid_from),
    method              text NOT NULL CHECK (method IN ('ONLINE', 'WRITTEN')),
    evidence            text NOT NULL,
    risk_notice_version text NOT NULL,
    receipt             text NOT NULL,
    created_at          timestamptz NOT NULL,
    revoked_at          timestamptz,
    PRIMARY KEY (uscc, id)
);
CREATE INDEX grants_subject_institution ON grants (uscc, institution);
CREATE INDEX grants_institution ON grants (institution, id);

-- Verifications answered, kept to enforce the per-(institution, enterprise, item) budget.
CREATE TABLE verification_uses (
    uscc        text NOT NULL,
    id          uuid NOT NULL,
    institution text NOT NULL,
    item        text NOT NULL,
    at          timestamptz NOT NULL,
    PRIMARY KEY (uscc, id)
);
CREATE INDEX verification_uses_budget ON verification_uses (uscc, institution, item, at);

-- +goose Down
DROP TABLE verification_uses;
DROP TABLE grants;
