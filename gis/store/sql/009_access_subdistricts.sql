-- 009: the user and session tables (007) carry the subdistrict key too. A user belongs to
-- one subdistrict, or to the district level ('*', sees every subdistrict); existing users
-- get the bundled one ('shichahai'). Sessions, trusted clients and failed logins take the
-- key of the user they name (a trigger), so the row says whose subdistrict it concerns.
-- These tables get no row-level security: a login is checked before any subdistrict is
-- known, by the app's own login code; the signing key (patrol_session_secret) belongs to
-- the whole deployment and is not keyed. Skipped where 007 has not created the tables.

CREATE FUNCTION patrol_user_subdistrict() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.subdistrict := coalesce(
        (SELECT u.subdistrict FROM patrol_users u WHERE u.username = NEW.username),
        NEW.subdistrict);
    RETURN NEW;
END
$$;

DO $$
DECLARE
    t text;
BEGIN
    IF to_regclass('public.patrol_users') IS NULL THEN
        RETURN;
    END IF;
    ALTER TABLE patrol_users ADD COLUMN IF NOT EXISTS subdistrict text NOT NULL
        DEFAULT 'shichahai';
    ALTER TABLE patrol_users ADD CONSTRAINT patrol_users_subdistrict_code
        CHECK (subdistrict = '*' OR subdistrict ~ '^[a-z][a-z0-9_]{0,39}$');
    FOREACH t IN ARRAY ARRAY['patrol_sessions', 'patrol_login_clients',
                             'patrol_login_failures'] LOOP
        CONTINUE WHEN to_regclass(format('public.%I', t)) IS NULL;
        EXECUTE format('ALTER TABLE %I ADD COLUMN IF NOT EXISTS subdistrict text NOT NULL '
                       'DEFAULT ''shichahai''', t);
        EXECUTE format('UPDATE %I x SET subdistrict = u.subdistrict FROM patrol_users u '
                       'WHERE u.username = x.username AND x.subdistrict <> u.subdistrict', t);
        EXECUTE format('CREATE TRIGGER %I BEFORE INSERT OR UPDATE OF username ON %I '
                       'FOR EACH ROW EXECUTE FUNCTION patrol_user_subdistrict()',
                       t || '_subdistrict', t);
    END LOOP;
END
$$;
