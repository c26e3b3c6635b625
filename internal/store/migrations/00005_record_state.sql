-- +goose Up
-- The state of a record that disclosure depends on (objections R20, credit repair R21,
-- self-reports R3). A record is shown to institutions only while it is inside its window and
-- neither repaired, deleted nor withdrawn; the subject, its provider and operators always see
-- it, annotated.
ALTER TABLE records
    ADD COLUMN under_objection boolean NOT NULL DEFAULT false,
    ADD COLUMN repaired_at     timestamptz,
    ADD COLUMN deleted_at      timestamptz,
    ADD COLUMN deletion_reason text,
    ADD COLUMN withdrawn_at    timestamptz;

-- Objections, repairs and self-reports name a record by its id alone.
CREATE INDEX records_id ON records (id);

-- +goose Down
DROP INDEX records_id;
ALTER TABLE records
    DROP COLUMN under_objection,
    DROP COLUMN repaired_at,
    DROP COLUMN deleted_at,
    DROP COLUMN deletion_reason,
    DROP COLUMN withdrawn_at;
