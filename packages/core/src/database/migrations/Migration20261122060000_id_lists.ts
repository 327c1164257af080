import { Migration } from '@mikro-orm/migrations';

/**
 * Lists of ids travel to PostgreSQL as one JSON parameter (the statement text stays the same for
 * every batch size). `x in (select jsonb_array_elements_text($1))` hides the list's length from
 * the planner, which then assumes 100 values: one customer's orders were read with a scan of all
 * orders. These immutable functions turn the parameter into an array the planner evaluates while
 * planning (`x = any(kokyaku.json_bigints($1::jsonb))`), so it sees how many values there are.
 */
export class Migration20261122060000_id_lists extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create function kokyaku.json_bigints(list jsonb) returns bigint[]
      language sql immutable parallel safe strict as $fn$
        select coalesce(array_agg(e::bigint), '{}') from jsonb_array_elements_text(list) as e
      $fn$`);
    this.addSql(`
      create function kokyaku.json_texts(list jsonb) returns text[]
      language sql immutable parallel safe strict as $fn$
        select coalesce(array_agg(e), '{}') from jsonb_array_elements_text(list) as e
      $fn$`);
  }

  override async down(): Promise<void> {
    this.addSql('drop function if exists kokyaku.json_bigints(jsonb)');
    this.addSql('drop function if exists kokyaku.json_texts(jsonb)');
  }
}
