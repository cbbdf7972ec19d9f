-- 005: coordination: alerts and liaison inboxes, joint actions, consultations, inspections
-- (明察暗访), photo evidence and reporters' reports. The same tables and checks as the
-- GeoPackage schema 5 (gis/store/coordination.py); joint-action areas are WKB (EPSG:4326).

CREATE TABLE coord_alerts (
    alert_id    text PRIMARY KEY,
    case_id     text REFERENCES cases (case_id) ON DELETE CASCADE,
    kind        text NOT NULL,
    audience    text NOT NULL,
    created_at  timestamptz NOT NULL,
    due_at      timestamptz,
    ack_by      text,
    ack_at      timestamptz,
    ack_lon     double precision,
    ack_lat     double precision,
    note        text,
    params      text
);
CREATE INDEX coord_alerts_audience ON coord_alerts (audience, ack_at);
CREATE INDEX coord_alerts_case ON coord_alerts (case_id);

CREATE TABLE coord_joint_actions (
    action_id     text PRIMARY KEY,
    title         text,
    planned_at    timestamptz,
    area_wkb      bytea,
    target_cases  text,
    depts         text,
    staff         text,
    state         text,
    outcomes      text,
    created_by    text,
    created_at    timestamptz,
    closed_by     text,
    closed_at     timestamptz,
    CHECK (state IN ('planned', 'closed'))
);

CREATE TABLE coord_consultations (
    consult_id   text PRIMARY KEY,
    held_at      timestamptz,
    level        text,
    topic        text,
    attendees    text,
    decisions    text,
    cases        text,
    contingency  text,
    created_by   text,
    created_at   timestamptz,
    CHECK (level IN ('center', 'subdistrict', 'district_special', 'holiday'))
);

CREATE TABLE coord_inspections (
    inspection_id  text PRIMARY KEY,
    inspected_at   timestamptz,
    inspector      text,
    mode           text,
    target_kind    text,
    target         text,
    result         text,
    finding        text,
    outcome        text,
    case_id        text,
    created_at     timestamptz,
    CHECK (target_kind IN ('street', 'person', 'dept') AND mode IN ('open', 'covert')
           AND result IN ('good', 'minor', 'serious') AND outcome IN ('none', 'case', 'comment'))
);

CREATE TABLE coord_photos (
    photo_id     text PRIMARY KEY,
    case_id      text REFERENCES cases (case_id) ON DELETE CASCADE,
    kind         text,
    sha256       text,
    mime         text,
    size_bytes   integer,
    width        integer,
    height       integer,
    taken_at     timestamptz,
    exif_lon     double precision,
    exif_lat     double precision,
    distance_m   double precision,
    flags        text,
    photo_data   bytea,
    thumb_data   bytea,
    uploaded_by  text,
    uploaded_at  timestamptz,
    CHECK (kind IN ('before', 'after')),
    UNIQUE (case_id, sha256)
);
CREATE INDEX coord_photos_case ON coord_photos (case_id);

CREATE TABLE coord_reports (
    case_id      text PRIMARY KEY REFERENCES cases (case_id) ON DELETE CASCADE,
    reporter     text,
    source       text,
    responsible  text,
    created_at   timestamptz
);
CREATE INDEX coord_reports_reporter ON coord_reports (reporter, created_at);

-- Community reporters are first-class sources.
ALTER TABLE cases DROP CONSTRAINT IF EXISTS cases_source_check;
ALTER TABLE cases ADD CONSTRAINT cases_source_check CHECK (source IN ('patrol', 'video',
    'complaint', 'hotline_12345', 'inspection', 'xicheng_dama', 'grid_worker', 'civility_team',
    'resident'));
