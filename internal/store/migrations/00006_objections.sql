-- +goose Up
-- Objections (异议, R20): an enterprise contests one of its records; the record is annotated
-- (records.under_objection) while the objection is open. Steps and deadlines in working days:
-- PLATFORM_REVIEW (3) → NOTIFYING (2) when the platform's own error was corrected, or
-- WITH_PROVIDER (5) → NOTIFYING (2) → CLOSED; a CLOSED objection the applicant still disputes is
-- TRANSFERRED to the competent department (final). Keyed by the subject's USCC like its records.
CREATE TABLE objections (
    uscc             text NOT NULL,            -- the subject (the record's enterprise)
    id               uuid NOT NULL,
    record_id        uuid NOT NULL,
    applicant        text NOT NULL,            -- USCC of the enterprise that filed it
    item             text NOT NULL,
    provider         text NOT NULL,            -- the item's provider, who answers
    reason           text NOT NULL,
    evidence         text,
    status           text NOT NULL CHECK (status IN ('PLATFORM_REVIEW', 'WITH_PROVIDER', 'NOTIFYING', 'CLOSED', 'TRANSFERRED')),
    outcome          text CHECK (outcome IN ('CORRECTED', 'UPHELD', 'DELETED_UNVERIFIABLE')),
    paused           boolean NOT NULL DEFAULT false,
    step_started_at  timestamptz NOT NULL,     -- when the current step started (or resumed)
    due_by           timestamptz,              -- the current step's deadline; null while paused or once closed
    provisional      boolean NOT NULL DEFAULT false, -- due_by was counted over a provisional calendar year
    paused_at        timestamptz,
    paused_due_by    timestamptz,              -- the deadline when the step was paused
    paused_provisional boolean,                -- and whether it was provisional
    remaining_days   integer CHECK (remaining_days >= 0), -- working days left when paused
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    PRIMARY KEY (uscc, id),
    -- A step after the review has an outcome; a closed objection has no deadline and no pause.
    CHECK (status NOT IN ('NOTIFYING', 'CLOSED', 'TRANSFERRED') OR outcome IS NOT NULL),
    CHECK (status NOT IN ('CLOSED', 'TRANSFERRED') OR (due_by IS NULL AND NOT paused)),
    -- A running step has a deadline; a paused one keeps its working days left instead.
    CHECK (paused = (paused_at IS NOT NULL)),
    CHECK (paused = (remaining_days IS NOT NULL)),
    CHECK (paused = (paused_due_by IS NOT NULL)),
    CHECK (paused = (paused_provisional IS NOT NULL)),
    CHECK (NOT paused OR due_by IS NULL),
    CHECK (paused OR status IN ('CLOSED', 'TRANSFERRED') OR due_by IS NOT NULL),
    CHECK (due_by IS NOT NULL OR NOT provisional)
);
-- At most one open objection per record.
CREATE UNIQUE INDEX objections_one_open ON objections (uscc, record_id)
    WHERE status IN ('PLATFORM_REVIEW', 'WITH_PROVIDER', 'NOTIFYING');
-- Steps and reads name an objection by its id alone; operators list all, newest first.
CREATE INDEX objections_id ON objections (id);
-- A provider's objections, newest first.
CREATE INDEX objections_provider ON objections (provider, id);
-- Operators' overdue list: running steps by deadline.
CREATE INDEX objections_due ON objections (due_by) WHERE due_by IS NOT NULL;

-- The history of each objection: one row per step taken (filed, reviewed, answered, notified,
-- disputed, paused, resumed), with who took it and the note given. Append-only in practice.
CREATE TABLE objection_steps (
    uscc          text NOT NULL,
    objection_id  uuid NOT NULL,
    seq           integer NOT NULL CHECK (seq > 0),
    at            timestamptz NOT NULL,
    action        text NOT NULL CHECK (action IN ('FILED', 'REVIEWED', 'ANSWERED', 'NOTIFIED', 'DISPUTED', 'PAUSED', 'RESUMED')),
    actor_role    text NOT NULL,
    actor         text NOT NULL,            -- the actor's organization: USCC, provider code, or operator org
    status        text NOT NULL,            -- the status after the step
    outcome       text,                     -- the outcome after the step
    due_by        timestamptz,              -- the deadline after the step
    note          text,
    PRIMARY KEY (uscc, objection_id, seq)
);

-- +goose Down
DROP TABLE objection_steps;
DROP TABLE objections;
