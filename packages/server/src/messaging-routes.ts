import type { Kokyaku } from '@kokyaku/core';
import { createHmac, timingSafeEqual } from 'node:crypto';
import express, { type Router } from 'express';

const page = (title: string, body: string) => `<!doctype html>
<html lang="ja"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex">
<title>${title}</title><style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;line-height:1.6}button{font-size:1rem;padding:.5rem 1.5rem}</style></head>
<body>${body}</body></html>`;

/** What one request to the message links gets back. */
interface LinkResponse {
  status: number;
  type?: 'text' | 'html';
  body?: string;
  location?: string;
}

const notKnown: LinkResponse = { status: 404, type: 'text', body: 'This link is not known.' };

/**
 * The message links, whatever serves them: `path` under the mount, the form fields of a POST,
 * and the request's `x-twilio-signature`. Null: not a message link.
 */
async function answer(kokyaku: Kokyaku, method: string, path: string, form: () => Promise<Record<string, string>>, signature: string | undefined): Promise<LinkResponse | null> {
  let m = /^\/r\/([^/]+)\/(\d+)$/.exec(path);
  if (m && method === 'GET') {
    const url = await kokyaku.followLink(decodeURIComponent(m[1]!), Number(m[2]));
    return url ? { status: 302, location: url } : notKnown;
  }
  m = /^\/u\/([^/]+)$/.exec(path);
  // Link scanners open links: a GET only shows the button, the POST unsubscribes.
  if (m && method === 'GET') {
    return {
      status: 200,
      type: 'html',
      body: page(
        '配信停止 / Unsubscribe',
        `<h1>配信停止 / Unsubscribe</h1><p>このチャネルでのお知らせの配信を停止しますか?<br>Stop marketing messages on this channel?</p>
<form method="post"><button type="submit">配信を停止する / Unsubscribe</button></form>`,
      ),
    };
  }
  if (m && method === 'POST') {
    const done = await kokyaku.unsubscribe(decodeURIComponent(m[1]!));
    if (!done) return { status: 404, type: 'html', body: page('Not found', '<p>This link is not known.</p>') };
    return {
      status: 200,
      type: 'html',
      body: page('配信を停止しました / Unsubscribed', '<h1>配信を停止しました</h1><p>You will get no more marketing messages on this channel.</p>'),
    };
  }
  if (path === '/sms/status' && method === 'POST') {
    const sms = kokyaku.config.messaging.sms;
    const authToken = sms && 'authToken' in sms ? sms.authToken : null;
    const url = sms && 'statusCallback' in sms ? sms.statusCallback : null;
    const params = await form();
    if (!authToken || !url || !twilioSignatureValid(authToken, url, params, signature)) return { status: 403 };
    const status = params.MessageStatus === 'delivered' ? 'DELIVERED' : params.MessageStatus === 'failed' || params.MessageStatus === 'undelivered' ? 'FAILED' : null;
    if (status && params.MessageSid) {
      await kokyaku.recordDelivery({ channel: 'SMS', providerId: params.MessageSid, status, error: status === 'FAILED' ? `Twilio error ${params.ErrorCode ?? 'unknown'}` : null });
    }
    return { status: 204 };
  }
  return null;
}

/**
 * The public links of messages: tracked clicks (`/r/<token>/<n>` redirects to the link and
 * counts the click) and unsubscribing (`/u/<token>`: a page with a button, and the RFC 8058
 * one-click POST mail clients send), and Twilio's SMS status callbacks (`/sms/status`, checked
 * against `X-Twilio-Signature`). Mount it at the path of `messaging.publicUrl`; it needs no
 * sign-in (the token is the key) and reveals nothing about the customer.
 *
 * @example
 * app.use('/kokyaku', messagingRoutes(kokyaku)); // messaging.publicUrl: 'https://shop.example/kokyaku'
 */
export function messagingRoutes(kokyaku: Kokyaku): Router {
  const router = express.Router();
  const forms = express.urlencoded({ extended: false, limit: '16kb' });
  router.use((req, res, next) => {
    const form = () =>
      new Promise<Record<string, string>>((resolve, reject) => forms(req, res, (error?: unknown) => (error ? reject(error) : resolve((req.body ?? {}) as Record<string, string>))));
    answer(kokyaku, req.method, req.path, form, req.get('x-twilio-signature'))
      .then((r) => {
        if (!r) return next();
        res.status(r.status).set('Cache-Control', 'no-store');
        if (r.location) res.redirect(302, r.location);
        else if (r.body !== undefined) res.type(r.type ?? 'text').send(r.body);
        else res.end();
      })
      .catch(next);
  });
  return router;
}

/**
 * The same message links as a web-standard handler (a Next.js route, Hono, Bun): give it the
 * path the links are mounted at. It answers null for other paths.
 *
 * @example
 * // app/kokyaku/[...link]/route.ts, with messaging.publicUrl 'https://shop.example/kokyaku'
 * const links = messagingFetchHandler(kokyaku, '/kokyaku');
 * export const GET = async (request: Request) => (await links(request)) ?? new Response(null, { status: 404 });
 * export const POST = GET;
 */
export function messagingFetchHandler(kokyaku: Kokyaku, mountPath: string): (request: Request) => Promise<Response | null> {
  const base = mountPath.replace(/\/$/, '');
  return async (request) => {
    const { pathname } = new URL(request.url);
    if (!pathname.startsWith(`${base}/`)) return null;
    const form = async () => Object.fromEntries(new URLSearchParams((await request.text()).slice(0, 16_384))) as Record<string, string>;
    const r = await answer(kokyaku, request.method.toUpperCase(), pathname.slice(base.length), form, request.headers.get('x-twilio-signature') ?? undefined);
    if (!r) return null;
    const headers: Record<string, string> = { 'cache-control': 'no-store' };
    if (r.location) headers.location = r.location;
    if (r.type) headers['content-type'] = r.type === 'html' ? 'text/html; charset=utf-8' : 'text/plain; charset=utf-8';
    return new Response(r.body ?? null, { status: r.status, headers });
  };
}

/**
 * Twilio's request signature: base64 HMAC-SHA1, under the auth token, of the callback URL followed
 * by every POST parameter's name and value in name order.
 */
export function twilioSignatureValid(authToken: string, url: string, params: Record<string, string>, signature: string | undefined): boolean {
  if (!signature) return false;
  const data =
    url +
    Object.keys(params)
      .sort()
      .map((k) => `${k}${params[k]}`)
      .join('');
  const expected = createHmac('sha1', authToken).update(data).digest();
  const given = Buffer.from(signature, 'base64');
  return given.length === expected.length && timingSafeEqual(given, expected);
}
