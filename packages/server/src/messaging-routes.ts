import type { Kokyaku } from '@kokyaku/core';
import express, { type Router } from 'express';

const page = (title: string, body: string) => `<!doctype html>
<html lang="ja"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex">
<title>${title}</title><style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;line-height:1.6}button{font-size:1rem;padding:.5rem 1.5rem}</style></head>
<body>${body}</body></html>`;

/**
 * The public links of messages: tracked clicks (`/r/<token>/<n>` redirects to the link and
 * counts the click) and unsubscribing (`/u/<token>`: a page with a button, and the RFC 8058
 * one-click POST mail clients send). Mount it at the path of `messaging.publicUrl`; it needs no
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
  return router;
}
