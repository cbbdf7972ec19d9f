-- 001: cases, their audit trail and named values (PostGIS).
CREATE EXTENSION IF NOT EXISTS postgis;

CREATE TABLE cases (
    case_id        text PRIMARY KEY,
    content_hash   text UNIQUE,
    category       text NOT NULL CHECK (category ~ '^C[0-9]{2}$'),
    tier           text NOT NULL CHECK (tier IN ('general', 'major', 'emergency')),
    state          text NOT NULL CHECK (state IN ('reported', 'registered', 'notice_served',
                       'rechecking', 'joint_enforcement', 'handled', 'closed', 'rejected',
                       'duplicate')),
    source         text NOT NULL CHECK (source IN ('patrol', 'video', 'complaint',
                       'hotline_12345', 'inspection')),
    reported_at    timestamptz NOT NULL,
    deadline_at    timestamptz,
    closed_at      timestamptz,
    zone_id        text,
    front_id       text,
    segment_id     text,
    person_id      text,
    lead_dept      text NOT NULL,
    depts          text[] NOT NULL DEFAULT '{}',
    owner          text NOT NULL,
    reporter       text NOT NULL DEFAULT '',
    description    text NOT NULL DEFAULT '',
    source_datum   text NOT NULL DEFAULT 'wgs84',
    src_lon        double precision,
    src_lat        double precision,
    photo_sha256   text,
    attributes     jsonb NOT NULL DEFAULT '{}',
    flags          jsonb NOT NULL DEFAULT '{}',
    joint          jsonb NOT NULL DEFAULT '{}',
    deadline_hours double precision,
    version        integer NOT NULL DEFAULT 1,
    updated_by     text NOT NULL DEFAULT '',
    updated_at     timestamptz,
    footprint      geometry(Geometry, 4326),
    geom           geometry(Point, 4326) NOT NULL
);

CREATE INDEX cases_geom_gist ON cases USING gist (geom);
CREATE INDEX cases_footprint_gist ON cases USING gist (footprint);
CREATE INDEX cases_zone_time ON cases (zone_id, reported_at);
CREATE INDEX cases_state ON cases (state);
CREATE INDEX cases_category_time ON cases (category, reported_at);
CREATE INDEX cases_time ON cases (reported_at);

CREATE TABLE case_audit (
    id          bigserial PRIMARY KEY,
    case_id     text NOT NULL REFERENCES cases (case_id) ON DELETE CASCADE,
    seq         integer NOT NULL,
    action      text NOT NULL,
    from_state  text,
    to_state    text NOT NULL,
    who         text NOT NULL,
    at          timestamptz NOT NULL,
    note        text NOT NULL DEFAULT '',
    params      jsonb NOT NULL DEFAULT '{}',
    UNIQUE (case_id, seq)
);

-- Named values; staff, users and settings tables come in later migrations.
CREATE TABLE patrol_meta (
    key    text PRIMARY KEY,
    value  text
);
