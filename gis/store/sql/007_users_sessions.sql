-- 007: users, failed logins, trusted clients and sessions in the store, so that every app
-- instance on one database shares them (releases before this kept users in a SQLite file
-- beside the app; `patrol db migrate` imports it). User rows carry a version: an update names
-- the version it read and is refused when another writer came first.
CREATE TABLE patrol_users (
    username       text PRIMARY KEY,
    role           text NOT NULL,
    display_name   text NOT NULL DEFAULT '',
    zones          text NOT NULL DEFAULT '',
    fronts         text NOT NULL DEFAULT '',
    person_id      text,
    department     text,
    active         boolean NOT NULL DEFAULT true,
    password_hash  text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    version        integer NOT NULL DEFAULT 1 CHECK (version > 0),
    updated_at     timestamptz
);

CREATE TABLE patrol_login_failures (
    username   text NOT NULL,
    failed_at  timestamptz NOT NULL,
    client     text NOT NULL DEFAULT ''
);
CREATE INDEX patrol_login_failures_user ON patrol_login_failures (username, failed_at);
CREATE INDEX patrol_login_failures_client ON patrol_login_failures (client, failed_at);

CREATE TABLE patrol_login_clients (
    username  text NOT NULL,
    client    text NOT NULL,
    last_ok   timestamptz NOT NULL,
    PRIMARY KEY (username, client)
);

-- one row per login; the browser holds a signed token naming `sid` in an HttpOnly cookie
CREATE TABLE patrol_sessions (
    sid              text PRIMARY KEY,
    username         text NOT NULL,
    issued_at        timestamptz NOT NULL,
    expires_at       timestamptz NOT NULL,
    revoked_at       timestamptz,
    handoff_hash     text UNIQUE,
    handoff_expires  timestamptz,
    CHECK (expires_at > issued_at)
);
CREATE INDEX patrol_sessions_user ON patrol_sessions (username);
CREATE INDEX patrol_sessions_expiry ON patrol_sessions (expires_at);

-- the key that signs session tokens (one row, made by the first instance that needs it)
CREATE TABLE patrol_session_secret (
    id      integer PRIMARY KEY CHECK (id = 1),
    secret  bytea NOT NULL
);
