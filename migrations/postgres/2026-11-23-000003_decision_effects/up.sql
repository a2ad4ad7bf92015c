-- What a decision of a meeting did to each obligation it names: postponed it
-- (with the new timeframe), cancelled, superseded or closed it. The item's own
-- row changes too; this keeps which decision caused the change.
CREATE TABLE decision_effects (
    decision_id TEXT NOT NULL REFERENCES decisions(id),
    obligation_id TEXT NOT NULL REFERENCES obligations(id),
    effect TEXT NOT NULL CHECK (effect IN ('postpone','cancel','supersede','close','amend')),
    before_lifecycle TEXT NOT NULL,
    after_lifecycle TEXT NOT NULL,
    before_timeframe TEXT NOT NULL,
    after_timeframe TEXT NOT NULL,
    superseded_by TEXT REFERENCES obligations(id),
    applied_at TIMESTAMP NOT NULL,
    PRIMARY KEY (decision_id, obligation_id)
);
CREATE INDEX decision_effects_obligation ON decision_effects(obligation_id);
