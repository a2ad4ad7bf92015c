-- Users, their scope, API tokens and failed logins (DESIGN.md "User and access").

CREATE TABLE users (
    id TEXT PRIMARY KEY NOT NULL,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin','secretariat','editor','viewer')),
    -- an editor works for one organisation, and reports for that organisation's party
    organisation_id TEXT REFERENCES organisations(id),
    active BOOLEAN NOT NULL DEFAULT TRUE,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CHECK (role <> 'editor' OR organisation_id IS NOT NULL)
);

-- The bodies whose programmes a secretariat user serves.
CREATE TABLE user_bodies (
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    body_id TEXT NOT NULL REFERENCES bodies(id),
    PRIMARY KEY (user_id, body_id)
);

-- Opaque bearer tokens, stored as SHA-256 of the secret.
CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    label TEXT,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);
CREATE INDEX api_tokens_user ON api_tokens(user_id);

-- Failed logins, for the rate limit shared by every instance.
CREATE TABLE login_failures (
    id TEXT PRIMARY KEY NOT NULL,
    username TEXT NOT NULL,
    at TIMESTAMP NOT NULL
);
CREATE INDEX login_failures_username_at ON login_failures(username, at);

-- Case-insensitive search in every language: SQL lower() folds only ASCII on
-- SQLite, so the text is folded by the application (Unicode-aware) on write.
ALTER TABLE obligations ADD COLUMN search_text TEXT NOT NULL DEFAULT '';
CREATE INDEX obligations_programme_position_id ON obligations(programme_id, position, id);
