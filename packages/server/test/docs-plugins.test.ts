import fs from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Kokyaku } from '@kokyaku/core';
import { createTestDatabase, dropTestDatabase } from '@kokyaku/core/testing';
import { afterAll, expect, inject, it } from 'vitest';

/**
 * docs/plugins.md is followed as a newcomer would: its two files are written out as they are in
 * the guide, started, and asked the guide's query.
 */
const here = import.meta.dirname;
const dir = path.join(here, '.docs-plugins');
let cleanup: (() => Promise<void>) | undefined;
afterAll(() => cleanup?.());

it('the plugin guide works as written', async () => {
  const guide = await fs.readFile(path.join(here, '..', '..', '..', 'docs', 'plugins.md'), 'utf8');
  const file = (title: string) => {
    const match = new RegExp('```ts title="' + title.replace('.', '\\.') + '"\\n([\\s\\S]*?)\\n```').exec(guide);
    expect(match, `docs/plugins.md has a block titled ${title}`).not.toBeNull();
    return match![1]!;
  };
  await fs.mkdir(dir, { recursive: true });
  await fs.writeFile(path.join(dir, 'vip-plugin.ts'), file('vip-plugin.ts'));
  await fs.writeFile(path.join(dir, 'server.ts'), file('server.ts'));

  const adminUrl = inject('kokyakuAdminUrl');
  const url = await createTestDatabase(adminUrl);
  process.env.PORT = '0';
  const { start } = (await import(/* @vite-ignore */ path.join(dir, 'server.ts'))) as { start(url: string): Promise<{ kokyaku: Kokyaku; server: import('node:http').Server }> };
  const { kokyaku, server } = await start(url);
  cleanup = async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await kokyaku.close();
    await dropTestDatabase(adminUrl, url);
    await fs.rm(dir, { recursive: true, force: true });
  };
  if (!server.listening) await new Promise((resolve) => server.once('listening', resolve));

  const ctx = kokyaku.context();
  await kokyaku.orders.record(ctx, [
    { externalId: 'o-big', customerExternalId: 'c-vip', placedAt: new Date(), lines: [{ productExternalId: 'grinder', quantity: 1, unitPrice: 60_000 }] },
    { externalId: 'o-small', customerExternalId: 'c-other', placedAt: new Date(), lines: [{ productExternalId: 'beans', quantity: 1, unitPrice: 1_800 }] },
  ]);
  const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/crm/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: guide.match(/```graphql\n([\s\S]*?)\n```/)![1] }),
  });
  const body = (await res.json()) as { data?: any; errors?: unknown };
  expect(body.errors).toBeUndefined();
  expect(body.data.customers).toEqual({ totalCount: 1, nodes: [{ externalId: 'c-vip', vip: { tier: 'GOLD', since: expect.any(String) } }] });
  const applied = await kokyaku.orm.em.fork().getConnection().execute(`select name from kokyaku.migrations where name like 'plugin:%'`);
  expect(applied).toEqual([{ name: 'plugin:vip:001_tiers' }]);
});
