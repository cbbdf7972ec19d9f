-- 004: crowd-flow early warning: watched places, counts per counter, alerts.
CREATE TABLE crowd_places (
    place_id text PRIMARY KEY,
    name text NOT NULL,
    name_en text NOT NULL DEFAULT '',
    usable_area_m2 double precision NOT NULL CHECK (usable_area_m2 > 0),
    per_person_m2 double precision NOT NULL CHECK (per_person_m2 > 0),
    capacity integer NOT NULL CHECK (capacity >= 0),
    counters text[] NOT NULL,
    geom geometry(MultiPolygon, 4326) NOT NULL
);

-- one row per counter and time; the key is the only index (ingest speed)
CREATE TABLE crowd_counts (
    counter_id text NOT NULL,
    at timestamptz NOT NULL,
    place_id text NOT NULL,
    occupancy integer NOT NULL CHECK (occupancy >= 0),
    PRIMARY KEY (counter_id, at)
);

CREATE TABLE crowd_alerts (
    alert_id text PRIMARY KEY,
    place_id text NOT NULL,
    level text NOT NULL CHECK (level IN ('blue', 'yellow', 'orange', 'red')),
    raised_at timestamptz NOT NULL,
    expected_at timestamptz NOT NULL,
    lead_min double precision NOT NULL,
    occupancy double precision NOT NULL,
    forecast_peak double precision NOT NULL,
    capacity integer NOT NULL,
    state text NOT NULL CHECK (state IN ('open', 'acknowledged', 'escalated')),
    acted_by text,
    acted_at timestamptz,
    case_id text,
    detail text,
    version integer NOT NULL
);
CREATE INDEX crowd_alerts_time ON crowd_alerts (raised_at);
