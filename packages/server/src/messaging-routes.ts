import type { Kokyaku } from '@kokyaku/core';
import { createHmac, timingSafeEqual } from 'node:crypto';
import express, { type Router } from 'express';

const page = (title: string, body: string) => `<!doctype html>
<html lang="ja"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex">
<title>${title}</title><style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;line-height:1.6}button{font-size:1rem;padding:.5rem 1.5rem}</style></head>
<body>${body}</body></html>`;

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
  router.get('/r/:token/:n', async (req, res, next) => {
    try {
      const url = await kokyaku.followLink(String(req.params.token), Number(req.params.n));
      if (!url) {
        res.status(404).type('text').send('This link is not known.');
        return;
      }
      res.set('Cache-Control', 'no-store').redirect(302, url);
    } catch (error) {
      next(error);
    }
  });
  router.get('/u/:token', (req, res) => {
    // Link scanners open links: a GET only shows the button, the POST unsubscribes.
    res
      .set('Cache-Control', 'no-store')
      .type('html')
      .send(
        page(
          '配信停止 / Unsubscribe',
          `<h1>配信停止 / Unsubscribe</h1><p>このチャネルでのお知らせの配信を停止しますか?<br>Stop marketing messages on this channel?</p>
<form method="post"><button type="submit">配信を停止する / Unsubscribe</button></form>`,
        ),
      );
  });
  router.post('/u/:token', express.urlencoded({ extended: false, limit: '1kb' }), async (req, res, next) => {
    try {
      const done = await kokyaku.unsubscribe(String(req.params.token));
      if (!done) {
        res.status(404).type('html').send(page('Not found', '<p>This link is not known.</p>'));
        return;
      }
      res.type('html').send(page('配信を停止しました / Unsubscribed', '<h1>配信を停止しました</h1><p>You will get no more marketing messages on this channel.</p>'));
    } catch (error) {
      next(error);
    }
  });
  router.post('/sms/status', express.urlencoded({ extended: false, limit: '16kb' }), async (req, res, next) => {
    try {
      const sms = kokyaku.config.messaging.sms;
      const authToken = sms && 'authToken' in sms ? sms.authToken : null;
      const url = sms && 'statusCallback' in sms ? sms.statusCallback : null;
      const params = req.body as Record<string, string>;
      if (!authToken || !url || !twilioSignatureValid(authToken, url, params, req.get('x-twilio-signature'))) {
        res.sendStatus(403);
        return;
      }
      const status = params.MessageStatus === 'delivered' ? 'DELIVERED' : params.MessageStatus === 'failed' || params.MessageStatus === 'undelivered' ? 'FAILED' : null;
      if (status && params.MessageSid) {
        await kokyaku.recordDelivery({ channel: 'SMS', providerId: params.MessageSid, status, error: status === 'FAILED' ? `Twilio error ${params.ErrorCode ?? 'unknown'}` : null });
      }
      res.sendStatus(204);
    } catch (error) {
      next(error);
    }
  });
  return router;
}

/**
 * Twilio's request signature: base64 HMAC-SHA1, under the auth token, of the callback URL followed
 * by every POST parameter's name and value in name order.
 */
export function twilioSignatureValid(authToken: string, url: string, params: Record<string, string>, signature: string | undefined): boolean {
  if (!signature) return false;
  const data = url + Object.keys(params).sort().map((k) => `${k}${params[k]}`).join('');
  const expected = createHmac('sha1', authToken).update(data).digest();
  const given = Buffer.from(signature, 'base64');
  return given.length === expected.length && timingSafeEqual(given, expected);
}
