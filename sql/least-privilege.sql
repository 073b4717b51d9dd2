-- A least-privilege PostgreSQL role for fastify-default-deny: exactly what
-- the plugin's queries need at run time, and nothing else.
--
--   psql "$ADMIN_URL" -v schema=public -v role=default_deny_app -f sql/least-privilege.sql
--
-- Run it as an administrator who may create roles (CREATEROLE, or a
-- superuser) after the migrations, which a separate owner role runs; and
-- again after an upgrade whose migration adds a table (the CREATE ROLE then
-- fails because the role exists, and psql, without ON_ERROR_STOP, goes on
-- with the GRANTs). Then give the role a password (\password
-- default_deny_app) and start the app with it and migrate: false.
--
-- What the role can do:
--   - read, add, change and remove grants, owners and memberships (the
--     grant API, the service API, purgeExpired; UPDATE also lets the writer
--     read the actor's rights FOR SHARE), and keep the memberships' closure;
--   - read the audit trail and append to it; never UPDATE, DELETE or
--     TRUNCATE it, so a compromised app cannot rewrite history (the hash
--     chain still shows an edit made by the owner);
--   - nothing else: no DDL, no migration tables, no other schema.
-- The identity columns' sequences need no grant: INSERT into a table draws
-- from its own identity sequence. The advisory locks and set_config() the
-- plugin uses need no privilege either.

create role :"role" login nosuperuser nocreatedb nocreaterole noreplication nobypassrls;

grant usage on schema :"schema" to :"role";

grant select, insert, update, delete on
  :"schema".default_deny_grant,
  :"schema".default_deny_resource,
  :"schema".default_deny_membership
to :"role";

-- The memberships' closure is kept by triggers on the membership table,
-- which run as the role that changes a membership: they delete and insert
-- its rows, and every check reads it.
grant select, insert, delete on :"schema".default_deny_membership_closure to :"role";

-- The resources' ancestor closure (resource hierarchies) is kept the same
-- way, by triggers on the resource table; a write reading the actor's rights
-- through ancestors locks its rows FOR SHARE, which needs UPDATE.
grant select, insert, update, delete on :"schema".default_deny_resource_ancestor to :"role";

-- A move of a large subtree records the moved resource until its last step
-- has rewritten the paths below it (the same triggers, and the plugin's
-- steps, insert and delete that record).
grant select, insert, delete on :"schema".default_deny_resource_move to :"role";

grant select, insert on :"schema".default_deny_audit to :"role";

-- The pool the plugin owns plans every statement generically; a pool of
-- yours on this role does the same with this setting.
alter role :"role" set plan_cache_mode = force_generic_plan;
