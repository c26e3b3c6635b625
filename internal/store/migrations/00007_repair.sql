-- +goose Up
-- Credit repair (信用修复, R21): an enterprise applies, with a credit commitment letter, to end
-- the disclosure of one of its records in a repairable item once the item's minimum disclosure
-- period has passed; the provider of the item decides. Keyed by the subject's USCC like its
-- records. An approval sets records.repaired_at and publishes the letter as a `commitment`
-- record (commitment_record_id) in the same transaction.
CREATE TABLE repair_applications (
    uscc                 text NOT NULL,
    id                   uuid NOT NULL,
    record_id            uuid NOT NULL,
    item                 text NOT NULL,
    provider             text NOT NULL,            -- the item's provider, who decides
    commitment           text NOT NULL,            -- the credit commitment letter (信用修复型信用承诺书)
    status               text NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'APPROVED', 'REJECTED')),
    reason               text,                     -- required on rejection, optional on approval
    decided_by           text,                     -- provider code
    commitment_record_id uuid,                     -- the public commitment record made on approval
    created_at           timestamptz NOT NULL,
    decided_at           timestamptz,
    PRIMARY KEY (uscc, id),
    CHECK ((status = 'PENDING') = (decided_at IS NULL)),
    CHECK ((status = 'PENDING') = (decided_by IS NULL)),
    CHECK (status <> 'REJECTED' OR reason IS NOT NULL),
    CHECK ((status = 'APPROVED') = (commitment_record_id IS NOT NULL))
);
-- At most one pending application per record.
CREATE UNIQUE INDEX repair_applications_one_pending ON repair_applications (uscc, record_id) WHERE status = 'PENDING';
-- Decisions and reads name an application by its id alone.
CREATE INDEX repair_applications_id ON repair_applications (id);
-- A provider's applications, newest first.
CREATE INDEX repair_applications_provider ON repair_applications (provider, id);

-- +goose Down
DROP TABLE repair_applications;
