-- 008: several subdistricts in one database. Every stored row carries a `subdistrict` key
-- (a lower-case code such as 'shichahai'); rows stored before this step get the store's
-- current subdistrict (patrol_meta 'subdistrict' when recorded, else 'shichahai', the
-- bundled geography). New rows take the key of the session (`app.subdistrict`, set per
-- transaction by the store with set_config). Row-level security lets a session see and
-- write only its own subdistrict's rows, or every row at the district level ('*').
-- The role `patrol_app` (NOLOGIN, NOBYPASSRLS) holds the app's privileges; the app's login
-- roles are its members, or the store switches to it per transaction (SET LOCAL ROLE).
-- Tables that do not exist yet (added by a parallel migration) are skipped here and keyed
-- by the step that creates them.

DO $$
DECLARE
    code text;
    t text;
    keyed text[] := ARRAY['cases', 'case_audit', 'patrol_meta', 'staff', 'staff_assignments',
        'roster', 'signins', 'tracks', 'crowd_places', 'crowd_counts', 'crowd_alerts',
        'coord_alerts', 'coord_joint_actions', 'coord_consultations', 'coord_inspections',
        'coord_photos', 'coord_reports', 'geo_layers', 'geo_features', 'users', 'sessions'];
    scope text := $q$(subdistrict = current_setting('app.subdistrict', true)
        OR current_setting('app.subdistrict', true) = '*')$q$;
BEGIN
    SELECT value INTO code FROM patrol_meta WHERE key = 'subdistrict';
    code := coalesce(code, 'shichahai');
    IF code !~ '^[a-z][a-z0-9_]{0,39}$' THEN
        RAISE EXCEPTION 'patrol_meta subdistrict % is not a subdistrict code (a-z, 0-9, _)',
            quote_literal(code);
    END IF;
    FOREACH t IN ARRAY keyed LOOP
        CONTINUE WHEN to_regclass(format('public.%I', t)) IS NULL;
        EXECUTE format('ALTER TABLE %I ADD COLUMN IF NOT EXISTS subdistrict text NOT NULL '
                       'DEFAULT %L', t, code);
        EXECUTE format('ALTER TABLE %I ALTER COLUMN subdistrict SET DEFAULT '
                       'nullif(current_setting(''app.subdistrict'', true), '''')', t);
        EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I CHECK '
                       '(subdistrict ~ ''^[a-z][a-z0-9_]{0,39}$'')', t, t || '_subdistrict_code');
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY subdistrict_scope ON %I USING %s WITH CHECK %s',
                       t, scope, scope);
    END LOOP;
    -- The geography layers are public map data: every subdistrict may read them (a
    -- policy of constant true leaves the planner free to use the GiST indexes, which
    -- PostGIS's operators, not being LEAKPROOF, could not serve under a key filter); they
    -- are written under the key, and the store's queries name their subdistrict.
    CREATE POLICY subdistrict_read ON geo_layers FOR SELECT USING (true);
    CREATE POLICY subdistrict_read ON geo_features FOR SELECT USING (true);
END
$$;

-- Named values are per subdistrict (the district assignment, replay state …).
ALTER TABLE patrol_meta DROP CONSTRAINT patrol_meta_pkey;
ALTER TABLE patrol_meta ADD PRIMARY KEY (subdistrict, key);

-- Segment ids of different geographies may coincide: assignments are unique per subdistrict.
ALTER TABLE staff_assignments DROP CONSTRAINT staff_assignments_segment_id_valid_from_key;
ALTER TABLE staff_assignments ADD UNIQUE (subdistrict, segment_id, valid_from);

-- Each subdistrict has its own geography layers.
ALTER TABLE geo_features DROP CONSTRAINT geo_features_layer_fkey;
ALTER TABLE geo_features DROP CONSTRAINT geo_features_pkey;
ALTER TABLE geo_layers DROP CONSTRAINT geo_layers_pkey;
ALTER TABLE geo_layers ADD PRIMARY KEY (subdistrict, layer);
ALTER TABLE geo_features ADD PRIMARY KEY (subdistrict, layer, ord);
ALTER TABLE geo_features ADD FOREIGN KEY (subdistrict, layer)
    REFERENCES geo_layers (subdistrict, layer) ON DELETE CASCADE;
DROP INDEX geo_features_id;
CREATE INDEX geo_features_id ON geo_features (subdistrict, layer, feature_id);

-- Cases inside an area on the GiST index. Under row-level security PostgreSQL does not let
-- PostGIS's (not LEAKPROOF) operators use an index ahead of the policy, so a spatial
-- query would scan every row; this function runs as the tables' owner (no RLS) and applies
-- the session's key itself, so an app role gets its own subdistrict's rows, fast.
CREATE FUNCTION patrol_cases_within(area geometry) RETURNS SETOF cases
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT * FROM cases c
    WHERE ST_Contains(area, c.geom)
      AND (c.subdistrict = current_setting('app.subdistrict', true)
           OR current_setting('app.subdistrict', true) = '*')
$$;
REVOKE ALL ON FUNCTION patrol_cases_within(geometry) FROM PUBLIC;

-- The policies add `subdistrict = …` to every case query.
CREATE INDEX cases_subdistrict_time ON cases (subdistrict, reported_at);
CREATE INDEX case_audit_subdistrict ON case_audit (subdistrict, case_id);

-- The app's role: no login, no RLS bypass; created once per cluster when this migration
-- may create roles (else an administrator creates it: see docs/store.md).
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'patrol_app') THEN
        BEGIN
            CREATE ROLE patrol_app NOLOGIN NOSUPERUSER NOBYPASSRLS;
        EXCEPTION WHEN insufficient_privilege OR duplicate_object OR unique_violation THEN
            RAISE NOTICE 'role patrol_app not created (%): row-level security needs it', SQLERRM;
        END;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'patrol_app') THEN
        GRANT USAGE ON SCHEMA public TO patrol_app;
        GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO patrol_app;
        GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO patrol_app;
        GRANT EXECUTE ON FUNCTION patrol_cases_within(geometry) TO patrol_app;
        ALTER DEFAULT PRIVILEGES IN SCHEMA public
            GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO patrol_app;
        ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO patrol_app;
    END IF;
END
$$;
