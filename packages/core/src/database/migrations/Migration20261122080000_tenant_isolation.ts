import { Migration } from '@mikro-orm/migrations';

/**
 * Row-level security on every table with a `tenant_id`: a statement sees and writes only the
 * rows of the tenant in the setting `kokyaku.tenant_id` (none when it is unset). FORCE makes it
 * bind the tables' owner too. Superusers and BYPASSRLS roles are never bound by it, so tenant
 * statements run as the role `kokyaku_tenant` (`sql` sets it, see shared/sql.ts), which this
 * migration creates when the database user may create roles.
 *
 * A table added later with a `tenant_id` must get the same policy: `tenantIsolation(table)`,
 * and the meta-test fails until it does.
 */
export class Migration20261122080000_tenant_isolation extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      do $$
      declare t record;
      begin
        for t in
          select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
          where n.nspname = 'kokyaku' and c.relkind in ('r', 'p')
            and exists (select 1 from pg_attribute a where a.attrelid = c.oid and a.attname = 'tenant_id' and not a.attisdropped)
        loop
          ${tenantIsolation('%I', 't.relname')}
        end loop;
      end $$`);
    this.addSql(`
      do $$
      begin
        if not exists (select 1 from pg_roles where rolname = 'kokyaku_tenant') then
          begin
            create role kokyaku_tenant nologin nobypassrls;
          exception
            -- Another database of the same server made it at the same moment.
            when duplicate_object or unique_violation then null;
            when insufficient_privilege then
              raise warning 'kokyaku: cannot create the role kokyaku_tenant (%); row-level security binds only a user that does not bypass it', sqlerrm;
              return;
          end;
        end if;
        grant usage on schema kokyaku to kokyaku_tenant;
        grant select, insert, update, delete on all tables in schema kokyaku to kokyaku_tenant;
        revoke all on kokyaku.migrations from kokyaku_tenant;
        grant usage, select on all sequences in schema kokyaku to kokyaku_tenant;
        alter default privileges in schema kokyaku grant select, insert, update, delete on tables to kokyaku_tenant;
        alter default privileges in schema kokyaku grant usage, select on sequences to kokyaku_tenant;
        if not exists (select 1 from pg_roles where rolname = current_user and rolsuper) then
          begin
            grant kokyaku_tenant to current_user;
          exception when insufficient_privilege or invalid_grant_operation then
            raise warning 'kokyaku: cannot grant the role kokyaku_tenant to % (%)', current_user, sqlerrm;
          end;
        end if;
      end $$`);

    // Under row-level security PostgreSQL evaluates the policy before any condition whose
    // functions are not marked LEAKPROOF, so such a condition can no longer drive an index: a
    // prefix search (LIKE), a tag (array @>) or a custom field (jsonb @>) would read every row of
    // the tenant. These built-in operators reveal nothing about rows they reject (they raise no
    // error that depends on a row's value); marking them LEAKPROOF lets the indexes work again.
    // Only a superuser may; others keep correct results, with those searches slower.
    this.addSql(`
      do $$
      begin
        if exists (select 1 from pg_roles where rolname = current_user and rolsuper) then
          ${LEAKPROOF.map((f) => `alter function ${f} leakproof;`).join('\n          ')}
        else
          raise warning 'kokyaku: not a superuser, so LIKE, array and jsonb conditions cannot use indexes under row-level security';
        end if;
      end $$`);
  }

  override async down(): Promise<void> {
    this.addSql(`
      do $$
      declare t record;
      begin
        for t in select tablename from pg_policies where schemaname = 'kokyaku' and policyname = 'tenant_isolation' loop
          execute format('drop policy tenant_isolation on kokyaku.%I', t.tablename);
          execute format('alter table kokyaku.%I no force row level security', t.tablename);
          execute format('alter table kokyaku.%I disable row level security', t.tablename);
        end loop;
      end $$`);
  }
}

/** Operator functions of the conditions Kokyaku writes that can use an index. */
const LEAKPROOF = [
  'pg_catalog.textlike(text, text)',
  'pg_catalog.textnlike(text, text)',
  'pg_catalog.texticlike(text, text)',
  'pg_catalog.textregexeq(text, text)',
  'pg_catalog.reverse(text)',

  'pg_catalog.arraycontains(anyarray, anyarray)',
  'pg_catalog.arraycontained(anyarray, anyarray)',
  'pg_catalog.arrayoverlap(anyarray, anyarray)',
  'pg_catalog.jsonb_contains(jsonb, jsonb)',
  'pg_catalog.jsonb_exists(jsonb, text)',
  'pg_catalog.numeric_eq(numeric, numeric)',
  'pg_catalog.numeric_ne(numeric, numeric)',
  'pg_catalog.numeric_lt(numeric, numeric)',
  'pg_catalog.numeric_le(numeric, numeric)',
  'pg_catalog.numeric_gt(numeric, numeric)',
  'pg_catalog.numeric_ge(numeric, numeric)',
];

/**
 * The statements (PL/pgSQL) that put the tenant policy on one table. `name` is the format
 * placeholder and `arg` the expression holding the table's name.
 */
export function tenantIsolation(name: string, arg: string): string {
  const rule = `tenant_id = current_setting(''kokyaku.tenant_id'', true)`;
  return `
    execute format('alter table kokyaku.${name} enable row level security', ${arg});
    execute format('alter table kokyaku.${name} force row level security', ${arg});
    execute format('create policy tenant_isolation on kokyaku.${name} using (${rule}) with check (${rule})', ${arg});`;
}
