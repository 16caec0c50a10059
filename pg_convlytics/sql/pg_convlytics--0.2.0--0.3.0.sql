-- pg_convlytics 0.2.0 -> 0.3.0 (ALTER EXTENSION pg_convlytics UPDATE TO '0.3.0').
--
-- Taxonomies have an owner and a guard: convlytics.taxonomies gains `owner` (the role that
-- registered each; rows kept from 0.2.0 get the role running the update), and a trigger lets
-- only superusers and members of convlytics.taxonomy_admin_role (default
-- convlytics_taxonomy_admin) register, replace or delete them. The function definitions are
-- unchanged; the library behind them hardens every entry point (see docs/postgres.md).

ALTER TABLE convlytics.taxonomies ADD COLUMN owner name NOT NULL DEFAULT current_user;
COMMENT ON TABLE convlytics.taxonomies IS 'Taxonomies registered with convlytics.register_taxonomy(), by name: their version (content hash), YAML, and the role that registered them.';

-- The rest is pg_convlytics/src/taxonomies_guard.sql, which a fresh install runs too.
CREATE FUNCTION convlytics.taxonomies_guard() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog AS $guard$
DECLARE
    admin text := coalesce(nullif(current_setting('convlytics.taxonomy_admin_role', true), ''), 'convlytics_taxonomy_admin');
BEGIN
    IF NOT (
        (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
        OR (EXISTS (SELECT FROM pg_roles WHERE rolname = admin) AND pg_has_role(current_user, admin, 'MEMBER'))
    ) THEN
        RAISE EXCEPTION 'convlytics.taxonomies: only members of role % register, replace or delete taxonomies', admin
            USING ERRCODE = 'insufficient_privilege',
                  HINT = format('an administrator grants it: GRANT %I TO %I (convlytics.taxonomy_admin_role names the role)', admin, current_user);
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    NEW.owner := current_user;
    RETURN NEW;
END
$guard$;
COMMENT ON FUNCTION convlytics.taxonomies_guard() IS 'Lets only superusers and members of convlytics.taxonomy_admin_role (default convlytics_taxonomy_admin) write convlytics.taxonomies, and records who did as the row''s owner.';
CREATE TRIGGER taxonomies_guard BEFORE INSERT OR UPDATE OR DELETE ON convlytics.taxonomies
    FOR EACH ROW EXECUTE FUNCTION convlytics.taxonomies_guard();
