import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { createTestKokyaku } from '@kokyaku/core/testing';
import { expect, inject, it } from 'vitest';
import { kokyakuFetchHandler, messagingFetchHandler } from '../src/fetch.js';
import { SESSION_HEADERS, describeMount, identifyBearer, mailbox } from './conformance.js';

/**
 * What a Next.js route handler is: `export async function POST(request: Request): Promise<Response>`.
 * This test serves the handler the way a web-standard runtime does: each HTTP request becomes
 * a fetch Request, and the handler's Response is written back.
 */
async function serve(handler: (request: Request) => Promise<Response | null>) {
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', `http://${req.headers.host}`);
    const headers = new Headers();
    for (const [key, value] of Object.entries(req.headers)) if (typeof value === 'string') headers.set(key, value);
    const request = new Request(url, {
      method: req.method,
      headers,
      body: req.method === 'GET' || req.method === 'HEAD' ? undefined : (Readable.toWeb(req) as ReadableStream),
      duplex: 'half',
    } as RequestInit);
    const response = (await handler(request)) ?? new Response(null, { status: 404 });
    res.writeHead(response.status, Object.fromEntries(response.headers));
    res.end(Buffer.from(await response.arrayBuffer()));
  });
  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const box = mailbox();

describeMount(
  'the fetch handler (a Next.js route handler)',
  async () => {
    const kokyaku = await createTestKokyaku(inject('kokyakuAdminUrl'), {
      shop: { currency: 'JPY', defaultCountry: 'JP' },
      messaging: { adapters: box.adapters },
    });
    const handler = await kokyakuFetchHandler(kokyaku, { path: '/api/crm', console: true, identify: (request) => identifyBearer(request.headers.get('authorization')) });
    // The API at /api/crm (the console beside it at /api/console), and the message links of journeys at /kokyaku.
    const links = messagingFetchHandler(kokyaku, '/kokyaku');
    const { server, url } = await serve(async (request) => (new URL(request.url).pathname.startsWith('/kokyaku/') ? links(request) : handler(request)));
    return {
      url: `${url}/api/crm`,
      sent: box.sent,
      adminHeaders: SESSION_HEADERS,
      kokyaku,
      close: async () => {
        await handler.stop();
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
        await kokyaku.close();
      },
    };
  },
  {
    sessions: true,
    links: '/kokyaku',
    console: '/api/console/',
    extra: (mount) => {
      it('refuses a body that is not JSON, and a GET mutation (CSRF)', async () => {
        const bad = await fetch(mount().url, { method: 'POST', headers: { 'content-type': 'application/json', ...SESSION_HEADERS }, body: '{"query":' });
        expect(bad.status).toBe(400);
        const get = await fetch(`${mount().url}?query=${encodeURIComponent('mutation { deleteSegment(id: "1") }')}`, {
          headers: { 'apollo-require-preflight': '1', ...SESSION_HEADERS },
        });
        expect(get.status).toBe(405);
      });
    },
  },
);
