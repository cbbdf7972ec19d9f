-- 003: named staff, dated segment assignments, the duty roster, sign-ins and patrol tracks.
CREATE TABLE staff (
    person_id    text PRIMARY KEY,
    name         text NOT NULL,
    team         text NOT NULL DEFAULT '',
    role         text NOT NULL,
    department   text NOT NULL DEFAULT '',
    presence     text NOT NULL CHECK (presence IN ('resident', 'on_call', 'auxiliary')),
    phone        text NOT NULL DEFAULT '',
    active_from  date,
    active_to    date,
    fictitious   boolean NOT NULL DEFAULT false,
    updated_by   text NOT NULL DEFAULT '',
    updated_at   timestamptz,
    CHECK (active_to IS NULL OR active_from IS NULL OR active_to >= active_from)
);

CREATE TABLE staff_assignments (
    id           bigserial PRIMARY KEY,
    segment_id   text NOT NULL,
    person_id    text NOT NULL REFERENCES staff (person_id),
    district_id  text NOT NULL DEFAULT '',
    valid_from   date NOT NULL,
    valid_to     date,
    assigned_by  text NOT NULL DEFAULT '',
    CHECK (valid_to IS NULL OR valid_to > valid_from),
    UNIQUE (segment_id, valid_from)
);
CREATE INDEX staff_assignments_person ON staff_assignments (person_id, valid_from);

CREATE TABLE roster (
    day          date NOT NULL,
    person_id    text NOT NULL REFERENCES staff (person_id),
    duty         text NOT NULL CHECK (duty IN ('morning', 'midday', 'evening', 'on_call',
                     'rest', 'leave')),
    note         text NOT NULL DEFAULT '',
    edited_by    text NOT NULL DEFAULT '',
    PRIMARY KEY (day, person_id)
);

CREATE TABLE signins (
    person_id    text NOT NULL REFERENCES staff (person_id),
    day          date NOT NULL,
    slot         text NOT NULL CHECK (slot IN ('morning', 'evening')),
    at           timestamptz NOT NULL,
    lon          double precision,
    lat          double precision,
    distance_m   double precision,
    late         boolean NOT NULL DEFAULT false,
    out_of_fence boolean NOT NULL DEFAULT false,
    recorded_by  text NOT NULL DEFAULT '',
    note         text NOT NULL DEFAULT '',
    PRIMARY KEY (person_id, day, slot)
);

CREATE TABLE tracks (
    track_id     text PRIMARY KEY,
    person_id    text NOT NULL REFERENCES staff (person_id),
    day          date NOT NULL,
    started_at   timestamptz NOT NULL,
    ended_at     timestamptz NOT NULL,
    n_points     integer NOT NULL,
    source       text NOT NULL DEFAULT 'gpx',
    name         text NOT NULL DEFAULT '',
    uploaded_by  text NOT NULL DEFAULT '',
    notes        text NOT NULL DEFAULT '',
    points       text NOT NULL,
    geom         geometry(LineString, 4326) NOT NULL
);
CREATE INDEX tracks_person_day ON tracks (person_id, day);
CREATE INDEX tracks_geom_gist ON tracks USING gist (geom);
