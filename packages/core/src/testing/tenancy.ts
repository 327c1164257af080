import type { Kokyaku } from '../kokyaku.js';

/**
 * What in the catalog keeps the schema from being distributed by tenant (Citus, docs/scaling.md):
 * a tenant table (a table of schema kokyaku with a `tenant_id`, core's or a plugin's) without a
 * primary key, or whose primary key, unique constraints, unique indexes or foreign keys to tenant
 * tables lack `tenant_id`. One line per problem; none: ready.
 */
export async function tenantKeyProblems(kokyaku: Kokyaku): Promise<string[]> {
  const { rows } = (await kokyaku.orm.em.getKnex().raw(`
    with tenant_tables as (
      select c.oid, c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
       where n.nspname = 'kokyaku' and c.relkind in ('r', 'p') and not c.relispartition
         and exists (select 1 from pg_attribute a where a.attrelid = c.oid and a.attname = 'tenant_id' and not a.attisdropped)
    )
    select format('%s: no primary key', t.relname) as problem from tenant_tables t
     where not exists (select 1 from pg_constraint con where con.conrelid = t.oid and con.contype = 'p')
    union all
    select format('%s: %s %s lacks tenant_id', t.relname, case con.contype when 'p' then 'primary key' when 'u' then 'unique constraint' else 'foreign key' end, con.conname)
      from tenant_tables t join pg_constraint con on con.conrelid = t.oid
     where con.contype in ('p', 'u', 'f')
       and not exists (select 1 from unnest(con.conkey) k join pg_attribute a on a.attrelid = t.oid and a.attnum = k where a.attname = 'tenant_id')
    union all
    select format('%s: unique index %s lacks tenant_id', t.relname, i.indexrelid::regclass)
      from tenant_tables t join pg_index i on i.indrelid = t.oid
     where i.indisunique and not exists (select 1 from pg_constraint con where con.conindid = i.indexrelid)
       and not exists (select 1 from unnest(i.indkey) k join pg_attribute a on a.attrelid = t.oid and a.attnum = k where a.attname = 'tenant_id')
    union all
    select format('%s: foreign key %s to tenant table %s lacks tenant_id', con.conrelid::regclass, con.conname, t.relname)
      from tenant_tables t join pg_constraint con on con.confrelid = t.oid
     where con.contype = 'f' and con.conrelid not in (select oid from tenant_tables)
    order by 1`)) as { rows: { problem: string }[] };
  return rows.map((r) => r.problem);
}
