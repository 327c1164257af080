import type { Kokyaku } from '@kokyaku/core';
import { kana } from './seed.js';
import { percentile, time } from './stats.js';

/**
 * Customer search over the seeded customers: typical fragments staff type (the last four digits
 * of a phone number, a name as spoken in kana, the start of an email), each round a different
 * fragment, through `customers.search`, beside the plain `ILIKE '%…%'` scan a CRM without search
 * indexes runs for the same fragment. Rounds interleave the two.
 */
export interface SearchBenchResult {
  name: string;
  example: string;
  matches: number;
  kokyakuP50Ms: number;
  kokyakuP95Ms: number;
  scanP50Ms: number;
  speedup: number;
}

const hira = (s: string) => s.replace(/[\u30a1-\u30f6]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0x60));

export async function benchSearch(kokyaku: Kokyaku, options: { customers: number; rounds: number; baselineRounds: number }, log: (line: string) => void) {
  const ctx = kokyaku.context();
  const knex = kokyaku.orm.em.getKnex();
  const pick = (round: number, salt: number) => 1 + ((round * 7919 + salt * 104729) % options.customers);
  const kinds: { name: string; fragment: (round: number) => string; scan: string; scanValue: (fragment: string) => string }[] = [
    {
      name: 'phone, last four digits',
      fragment: (r) =>
        String((pick(r, 1) * 7919) % 100000000)
          .padStart(8, '0')
          .slice(-4),
      scan: `select count(*)::int as n from kokyaku.customers where tenant_id = 'default' and phone ilike ?`,
      scanValue: (f) => `%${f}`,
    },
    {
      name: 'name as spoken, in hiragana',
      fragment: (r) => {
        const { family, given } = kana(pick(r, 2));
        return `${hira(family)}${hira(given)}`;
      },
      scan: `select count(*)::int as n from kokyaku.customers where tenant_id = 'default' and (last_name_kana || first_name_kana) ilike ?`,
      // The scan gets the fragment in katakana as stored: it has no normalisation of its own.
      scanValue: (f) => `%${f.replace(/[\u3041-\u3096]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0x60))}%`,
    },
    {
      name: 'start of an email',
      fragment: (r) => `user${pick(r, 3)}`,
      scan: `select count(*)::int as n from kokyaku.customers where tenant_id = 'default' and email ilike ?`,
      scanValue: (f) => `%${f}%`,
    },
  ];
  const results: SearchBenchResult[] = [];
  for (const kind of kinds) {
    const ours: number[] = [];
    const scan: number[] = [];
    let matches = 0;
    for (let round = 0; round < options.rounds; round++) {
      const fragment = kind.fragment(round + 1);
      ours.push(await time(() => kokyaku.customers.search(ctx, fragment, { first: 10 })));
      if (round < options.baselineRounds) {
        let n = 0;
        // A CRM without search indexes: the same filter read from the whole table.
        scan.push(
          await time(() =>
            knex.transaction(async (trx) => {
              await trx.raw('set local enable_indexscan = off; set local enable_bitmapscan = off; set local enable_indexonlyscan = off');
              n = (await trx.raw(kind.scan, [kind.scanValue(fragment)])).rows[0].n;
            }),
          ),
        );
        matches = Math.max(matches, n);
      }
    }
    const result = {
      name: kind.name,
      example: kind.fragment(1),
      matches,
      kokyakuP50Ms: percentile(ours, 50),
      kokyakuP95Ms: percentile(ours, 95),
      scanP50Ms: percentile(scan, 50),
      speedup: percentile(scan, 50) / percentile(ours, 50),
    };
    results.push(result);
    log(
      `  ${kind.name} (e.g. ${result.example}, up to ${matches} matches): p50 ${result.kokyakuP50Ms.toFixed(2)} ms, p95 ${result.kokyakuP95Ms.toFixed(2)} ms; ILIKE scan p50 ${result.scanP50Ms.toFixed(1)} ms (${result.speedup.toFixed(0)}x)`,
    );
  }
  return results;
}
