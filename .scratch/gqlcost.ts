const keepAlive = setInterval(() => {}, 1000);
import { createTestKokyaku, startTestPostgres } from '@kokyaku/core/testing';
import { startStandaloneServer } from '@kokyaku/server';
const server = await startTestPostgres();
const kokyaku = await createTestKokyaku(server.adminUrl, { shop: { currency: 'JPY' } });
const http = await startStandaloneServer(kokyaku, { port: 0, adminToken: 'token' });
const post = (query: string, variables: unknown) => fetch(http.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer token' }, body: JSON.stringify({ query, variables }) }).then((r) => r.json());
const TRACK = `mutation($e: [EventInput!]!) { trackEvents(events: $e) { received created errors { index field message } } }`;
const run = async (label: string, n: number, size: number) => {
  const t = performance.now();
  for (let i = 0; i < n; i++) {
    const r: any = await post(TRACK, { e: Array.from({ length: size }, (_, k) => ({ eventId: `${label}-${i}-${k}`, type: 'product_viewed', customerExternalId: `C${(i * 7 + k) % 500}`, occurredAt: new Date().toISOString() })) });
    if (r.errors) throw new Error(JSON.stringify(r.errors));
  }
  return performance.now() - t;
};
await run('warm', 50, 10);
const small: number[] = [];
const big: number[] = [];
const typename: number[] = [];
for (let round = 0; round < 3; round++) {
  small.push(await run(`s${round}`, 200, 1));
  big.push(await run(`b${round}`, 10, 1000));
  const t = performance.now();
  for (let i = 0; i < 300; i++) await post('{ __typename }', {});
  typename.push(performance.now() - t);
}
const med = (a: number[]) => [...a].sort((x, y) => x - y)[1]!.toFixed(0);
console.log(`200 x trackEvents(1): ${med(small)} ms; 10 x trackEvents(1000): ${med(big)} ms; 300 x __typename: ${med(typename)} ms`);
await http.close(); await kokyaku.close(); await server.stop(); clearInterval(keepAlive);
