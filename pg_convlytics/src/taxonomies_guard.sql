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
