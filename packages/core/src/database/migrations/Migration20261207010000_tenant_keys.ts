import { Migration } from '@mikro-orm/migrations';

/**
 * Citus-ready keys (docs/scaling.md): every primary key and unique constraint of a tenant table
 * (a table of the kokyaku schema with a `tenant_id`) includes `tenant_id`, and every foreign key
 * to one includes it on both sides. A distributed engine that shards by `tenant_id` (Citus) then
 * takes the schema as it is, and a row can never point at another shop's row.
 *
 * `tenant_id` goes last in each key: the statements that look rows up by id keep their index, with
 * the tenant as one more condition. The change is read from the catalog, so foreign keys of
 * plugins' tables to core tables are carried over too (as composite keys when the plugin's table
 * has a `tenant_id`; a plugin's own keys are the plugin's to change). A foreign key that set its
 * column to null on delete sets only that column to null, never the tenant.
 */
export class Migration20261207010000_tenant_keys extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
do $$
declare
  fk record;
  key record;
  saved jsonb := '[]'::jsonb;
  item jsonb;
  on_delete text;
begin
  -- 1. Foreign keys without tenant_id that point at a tenant table: remembered, then dropped.
  for fk in
    select con.oid, con.conname, con.conrelid::regclass::text as tbl, con.confrelid::regclass::text as ref, con.confdeltype,
           (select array_agg(quote_ident(a.attname) order by k.ord) from unnest(con.conkey) with ordinality k(n, ord)
              join pg_attribute a on a.attrelid = con.conrelid and a.attnum = k.n) as cols,
           (select array_agg(quote_ident(a.attname) order by k.ord) from unnest(con.confkey) with ordinality k(n, ord)
              join pg_attribute a on a.attrelid = con.confrelid and a.attnum = k.n) as refcols,
           exists (select 1 from pg_attribute a where a.attrelid = con.conrelid and a.attname = 'tenant_id' and not a.attisdropped) as has_tenant
      from pg_constraint con
      join pg_class r on r.oid = con.confrelid join pg_namespace rn on rn.oid = r.relnamespace
     where con.contype = 'f' and rn.nspname = 'kokyaku'
       and exists (select 1 from pg_attribute a where a.attrelid = con.confrelid and a.attname = 'tenant_id' and not a.attisdropped)
       and not exists (select 1 from unnest(con.conkey) k join pg_attribute a on a.attrelid = con.conrelid and a.attnum = k where a.attname = 'tenant_id')
  loop
    saved := saved || jsonb_build_object('name', fk.conname, 'tbl', fk.tbl, 'ref', fk.ref, 'del', fk.confdeltype,
                                         'cols', to_jsonb(fk.cols), 'refcols', to_jsonb(fk.refcols), 'has_tenant', fk.has_tenant);
    execute format('alter table %s drop constraint %I', fk.tbl, fk.conname);
  end loop;

  -- 2. Primary keys and unique constraints of tenant tables without tenant_id: tenant_id added last.
  for key in
    select con.conname, con.conrelid::regclass::text as tbl, con.contype,
           (select string_agg(quote_ident(a.attname), ', ' order by k.ord) from unnest(con.conkey) with ordinality k(n, ord)
              join pg_attribute a on a.attrelid = con.conrelid and a.attnum = k.n) as cols
      from pg_constraint con
      join pg_class c on c.oid = con.conrelid join pg_namespace n on n.oid = c.relnamespace
     where con.contype in ('p', 'u') and n.nspname = 'kokyaku' and not c.relispartition
       and exists (select 1 from pg_attribute a where a.attrelid = con.conrelid and a.attname = 'tenant_id' and not a.attisdropped)
       and not exists (select 1 from unnest(con.conkey) k join pg_attribute a on a.attrelid = con.conrelid and a.attnum = k where a.attname = 'tenant_id')
  loop
    execute format('alter table %s drop constraint %I, add constraint %I %s (%s, tenant_id)', key.tbl, key.conname, key.conname,
                   case key.contype when 'p' then 'primary key' else 'unique' end, key.cols);
  end loop;

  -- 3. The foreign keys again, with tenant_id on both sides.
  for item in select * from jsonb_array_elements(saved)
  loop
    if not (item->>'has_tenant')::boolean then
      raise warning 'kokyaku: % of % points at tenant rows but its table has no tenant_id: not restored', item->>'name', item->>'tbl';
      continue;
    end if;
    on_delete := case item->>'del'
      when 'c' then 'on delete cascade'
      when 'r' then 'on delete restrict'
      when 'n' then format('on delete set null (%s)', (select string_agg(c, ', ') from jsonb_array_elements_text(item->'cols') c))
      when 'd' then format('on delete set default (%s)', (select string_agg(c, ', ') from jsonb_array_elements_text(item->'cols') c))
      else '' end;
    execute format('alter table %s add constraint %I foreign key (%s, tenant_id) references %s (%s, tenant_id) %s',
                   item->>'tbl', item->>'name',
                   (select string_agg(c, ', ') from jsonb_array_elements_text(item->'cols') c), item->>'ref',
                   (select string_agg(c, ', ') from jsonb_array_elements_text(item->'refcols') c), on_delete);
  end loop;
end $$`);
  }

  override async down(): Promise<void> {
    // The composite keys hold everything the single ones did: nothing to undo for correctness.
  }
}
