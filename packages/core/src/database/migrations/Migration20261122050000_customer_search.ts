import { Migration } from '@mikro-orm/migrations';

/**
 * Customer search. One normalisation, in SQL, used by generated columns at write time and by the
 * search query at query time (the TypeScript twin in search/normalize.ts only places highlights,
 * and a test holds the two equal): NFKC, lower case, katakana to hiragana, small kana to full
 * size, spaces, dots, hyphens and long vowel marks dropped. Trigram (pg_trgm) GIN indexes serve
 * fragments inside names, kana and emails; btree (text_pattern_ops) indexes serve prefixes of
 * names, kana, emails and phone numbers and, on the reversed number, phone suffixes.
 */
export class Migration20261122050000_customer_search extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create extension if not exists pg_trgm`);
    this.addSql(`
      create function kokyaku.search_text(value text) returns text
      language sql immutable parallel safe strict as $fn$
        select translate(
                 translate(regexp_replace(lower(normalize(value, NFKC)), '[[:space:]・.‐‑–—―ー〜~_''’-]', '', 'g'),
                           'ァアィイゥウェエォオカガキギクグケゲコゴサザシジスズセゼソゾタダチヂッツヅテデトドナニヌネノハバパヒビピフブプヘベペホボポマミムメモャヤュユョヨラリルレロヮワヰヱヲンヴヵヶ',
                           'ぁあぃいぅうぇえぉおかがきぎくぐけげこごさざしじすずせぜそぞただちぢっつづてでとどなにぬねのはばぱひびぴふぶぷへべぺほぼぽまみむめもゃやゅゆょよらりるれろゎわゐゑをんゔゕゖ'),
                 'ぁぃぅぇぉっゃゅょゎゕゖ', 'あいうえおつやゆよわかけ')
      $fn$`);
    this.addSql(`
      create function kokyaku.search_name(first text, last text) returns text
      language sql immutable parallel safe as $fn$
        select nullif(concat_ws(' ',
                 nullif(coalesce(kokyaku.search_text(last), '') || coalesce(kokyaku.search_text(first), ''), ''),
                 case when first is not null and last is not null then kokyaku.search_text(first) || kokyaku.search_text(last) end), '')
      $fn$`);
    this.addSql(`alter table kokyaku.customers add column first_name_kana text, add column last_name_kana text`);
    this.addSql(`
      alter table kokyaku.customers
        add column search_name text generated always as (kokyaku.search_name(first_name, last_name)) stored,
        add column search_kana text generated always as (kokyaku.search_name(first_name_kana, last_name_kana)) stored`);
    this.addSql(`create index customer_search_name_idx on kokyaku.customers using gin (search_name gin_trgm_ops)`);
    this.addSql(`create index customer_search_kana_idx on kokyaku.customers using gin (search_kana gin_trgm_ops)`);
    this.addSql(`create index customer_search_email_idx on kokyaku.customers using gin (email gin_trgm_ops)`);
    this.addSql(`create index customer_phone_prefix_idx on kokyaku.customers (tenant_id, phone text_pattern_ops)`);
    this.addSql(`create index customer_email_prefix_idx on kokyaku.customers (tenant_id, email text_pattern_ops)`);
    this.addSql(`create index customer_name_prefix_idx on kokyaku.customers (tenant_id, search_name text_pattern_ops)`);
    this.addSql(`create index customer_kana_prefix_idx on kokyaku.customers (tenant_id, search_kana text_pattern_ops)`);
    this.addSql(`create index customer_phone_suffix_idx on kokyaku.customers (tenant_id, reverse(phone) text_pattern_ops)`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop index if exists kokyaku.customer_phone_suffix_idx, kokyaku.customer_phone_prefix_idx, kokyaku.customer_search_email_idx, kokyaku.customer_email_prefix_idx`);
    this.addSql(`alter table kokyaku.customers drop column search_name, drop column search_kana, drop column first_name_kana, drop column last_name_kana`);
    this.addSql(`drop function if exists kokyaku.search_name(text, text), kokyaku.search_text(text)`);
  }
}
