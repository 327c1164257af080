import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import http from 'node:http';
import https from 'node:https';
import { BlockList, isIP } from 'node:net';
import nodemailer, { type Transporter } from 'nodemailer';
import type { Channel } from './definition.js';

/**
 * Channels behind one interface. Every send carries the message's idempotency key (one per run
 * and step): LINE gets it as `X-Line-Retry-Key` (LINE drops a second push with the same key),
 * webhooks as `Idempotency-Key`, email as the Message-ID. A crash after the provider accepted a
 * message but before Kokyaku recorded it resends with the same key.
 */
export interface OutboundMessage {
  /** Unique per run and step: the same message sent again carries the same key. */
  key: string;
  channel: Channel;
  /** Email address, E.164 phone number or LINE user id. */
  to: string;
  subject: string | null;
  text: string;
  html: string | null;
  /** Email: the one-click unsubscribe URL (RFC 8058). */
  unsubscribeUrl?: string | null;
}

export interface ChannelAdapter {
  /** Sends one message; resolves with the provider's id once the provider accepted it, throws otherwise. */
  send(message: OutboundMessage): Promise<{ providerId: string | null }>;
  close?(): Promise<void> | void;
}

/** A UUID derived from a key: the same key gives the same UUID (LINE's retry key must be a UUID). */
export function keyUuid(key: string): string {
  return uuidFromHex(createHash('sha256').update(key).digest('hex'));
}

/** Formats 32+ hex digits as a version-4-shaped UUID. */
export function uuidFromHex(h: string): string {
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${((parseInt(h.slice(16, 17), 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export class ChannelError extends Error {
  override name = 'ChannelError';
  constructor(
    message: string,
    /** False when sending again cannot help (a bad address, a refused token). */
    readonly retryable = true,
  ) {
    super(message);
  }
}

async function postJson(url: string, body: string, headers: Record<string, string>, timeoutMs: number): Promise<Response> {
  try {
    return await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers }, signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    throw new ChannelError(`POST ${new URL(url).origin}: ${(error as Error).message}`);
  }
}

async function failure(response: Response, what: string): Promise<never> {
  const text = (await response.text().catch(() => '')).slice(0, 300);
  // 4xx other than 408/429 will not get better by trying again.
  const retryable = response.status >= 500 || response.status === 408 || response.status === 429;
  throw new ChannelError(`${what} answered ${response.status}${text ? `: ${text}` : ''}`, retryable);
}

export interface EmailConfig {
  /** An SMTP URL (`smtp://user:pass@host:587`, `smtps://…`) or nodemailer SMTP transport options. */
  smtp: string | Record<string, unknown>;
  /** The From header, e.g. `"Kissa Coffee" <hello@kissa.example>`. */
  from: string;
}

/** Email over SMTP (nodemailer, pooled connections). */
export class EmailChannel implements ChannelAdapter {
  private readonly transport: Transporter;
  constructor(private readonly config: EmailConfig) {
    const options = typeof config.smtp === 'string' ? { url: config.smtp, pool: true } : { pool: true, ...config.smtp };
    this.transport = nodemailer.createTransport(options as never);
  }

  async send(message: OutboundMessage): Promise<{ providerId: string | null }> {
    const messageId = `<${keyUuid(message.key)}@kokyaku>`;
    try {
      const info = await this.transport.sendMail({
        from: this.config.from,
        to: message.to,
        subject: message.subject ?? '',
        text: message.text,
        html: message.html ?? undefined,
        messageId,
        headers: {
          'X-Kokyaku-Key': message.key,
          ...(message.unsubscribeUrl ? { 'List-Unsubscribe': `<${message.unsubscribeUrl}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' } : {}),
        },
      });
      if ((info.rejected?.length ?? 0) > 0) throw new ChannelError(`the SMTP server refused ${info.rejected!.join(', ')}`, false);
      return { providerId: info.messageId ?? messageId };
    } catch (error) {
      if (error instanceof ChannelError) throw error;
      const e = error as { responseCode?: number; message: string };
      // 5xx is a permanent refusal; 4xx and connection errors are worth another try.
      throw new ChannelError(`SMTP: ${e.message}`, !(e.responseCode && e.responseCode >= 500));
    }
  }

  close(): void {
    this.transport.close();
  }
}

export interface LineConfig {
  /** The channel access token of the shop's LINE official account. */
  channelAccessToken: string;
  /** Default `https://api.line.me`. */
  apiUrl?: string;
}

/** LINE Messaging API push messages. */
export class LineChannel implements ChannelAdapter {
  constructor(private readonly config: LineConfig) {}

  async send(message: OutboundMessage): Promise<{ providerId: string | null }> {
    const url = `${(this.config.apiUrl ?? 'https://api.line.me').replace(/\/$/, '')}/v2/bot/message/push`;
    const response = await postJson(
      url,
      JSON.stringify({ to: message.to, messages: [{ type: 'text', text: message.text.slice(0, 5000) }] }),
      {
        authorization: `Bearer ${this.config.channelAccessToken}`,
        'x-line-retry-key': keyUuid(message.key),
      },
      10_000,
    );
    // 409: a request with this retry key was accepted already: the message went out once.
    if (response.status === 409) return { providerId: response.headers.get('x-line-accepted-request-id') };
    if (!response.ok) await failure(response, 'LINE');
    const body = (await response.json().catch(() => ({}))) as { sentMessages?: { id: string }[] };
    return { providerId: body.sentMessages?.[0]?.id ?? response.headers.get('x-line-request-id') };
  }
}

/** An SMS provider: one method, so another provider is one small class. */
export interface SmsProvider {
  send(message: { to: string; body: string; key: string }): Promise<{ providerId: string | null }>;
}

export interface TwilioConfig {
  accountSid: string;
  authToken: string;
  /** The sending number (E.164) or a messaging service SID (MG…). */
  from: string;
  /** Default `https://api.twilio.com`. */
  apiUrl?: string;
  /** Where Twilio posts delivery reports (`…/sms/status` of the Kokyaku mount). */
  statusCallback?: string | null;
}

/** Twilio's Programmable Messaging REST API. */
export class TwilioSms implements SmsProvider {
  constructor(private readonly config: TwilioConfig) {}

  async send(message: { to: string; body: string; key: string }): Promise<{ providerId: string | null }> {
    const { accountSid, authToken, from } = this.config;
    const url = `${(this.config.apiUrl ?? 'https://api.twilio.com').replace(/\/$/, '')}/2010-04-01/Accounts/${encodeURIComponent(accountSid)}/Messages.json`;
    const form = new URLSearchParams({ To: message.to, Body: message.body });
    form.set(from.startsWith('MG') ? 'MessagingServiceSid' : 'From', from);
    if (this.config.statusCallback) form.set('StatusCallback', this.config.statusCallback);
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'POST',
        body: form,
        headers: { authorization: `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}` },
        signal: AbortSignal.timeout(10_000),
      });
    } catch (error) {
      throw new ChannelError(`Twilio: ${(error as Error).message}`);
    }
    if (!response.ok) await failure(response, 'Twilio');
    const body = (await response.json()) as { sid?: string };
    return { providerId: body.sid ?? null };
  }
}

export class SmsChannel implements ChannelAdapter {
  constructor(private readonly provider: SmsProvider) {}
  send(message: OutboundMessage): Promise<{ providerId: string | null }> {
    return this.provider.send({ to: message.to, body: message.text, key: message.key });
  }
}

/**
 * The signature header of outbound webhooks: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`.
 * Receivers recompute it with the shared secret and refuse old timestamps.
 */
export function signWebhook(secret: string, body: string, at: Date = new Date()): string {
  const t = Math.floor(at.getTime() / 1000);
  return `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')}`;
}

/** Checks a `Kokyaku-Signature` header (for receivers written in JS, and for tests). */
export function verifyWebhook(secret: string, body: string, header: string, toleranceSeconds = 300, now: Date = new Date()): boolean {
  const parts = Object.fromEntries(header.split(',').map((p) => p.split('=') as [string, string]));
  const t = Number(parts.t);
  if (!Number.isFinite(t) || Math.abs(now.getTime() / 1000 - t) > toleranceSeconds) return false;
  const expected = createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
  return typeof parts.v1 === 'string' && parts.v1.length === expected.length && timingSafeEqual(Buffer.from(parts.v1), Buffer.from(expected));
}

/** Addresses a webhook of a journey may not reach: loopback, private, link-local, carrier NAT, unspecified. */
const PRIVATE = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
] as const)
  PRIVATE.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
] as const)
  PRIVATE.addSubnet(net, bits, 'ipv6');

/** Whether an IP address is loopback, private or link-local (IPv4-mapped IPv6 included). */
export function isPrivateAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  const ip = mapped ?? address;
  return PRIVATE.check(ip, isIP(ip) === 6 ? 'ipv6' : 'ipv4');
}

/**
 * Refuses a URL whose host is, or resolves to, a private address: a journey's webhook must not
 * reach the server's own network (SSRF). Returns the address to connect to: the request is pinned
 * to it, so a name that resolves elsewhere a moment later (DNS rebinding) changes nothing. Hosts
 * that run their receivers on the same network allow it with `messaging.allowPrivateWebhooks`.
 */
export async function assertPublicUrl(url: string): Promise<{ address: string; family: number }> {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  const addresses = isIP(host) ? [{ address: host, family: isIP(host) }] : await lookup(host, { all: true }).catch(() => []);
  if (addresses.length === 0) throw new ChannelError(`webhook: cannot resolve ${host}`);
  const blocked = addresses.find((a) => isPrivateAddress(a.address));
  if (blocked) throw new ChannelError(`webhook: ${host} is a private address (${blocked.address}); set messaging.allowPrivateWebhooks to call it`, false);
  return addresses[0]!;
}

/** POSTs with node:http(s), connecting to `pin` when given (the address checked), never resolving the name again. */
export function postPinned(url: string, body: string, headers: Record<string, string>, timeoutMs: number, pin: { address: string; family: number } | null): Promise<Response> {
  const target = new URL(url);
  const client = target.protocol === 'https:' ? https : http;
  const lookupPinned = (_host: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) =>
    options.all ? callback(null, [pin!]) : callback(null, pin!.address, pin!.family);
  return new Promise((resolve, reject) => {
    const req = client.request(
      target,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), ...headers },
        timeout: timeoutMs,
        ...(pin ? { lookup: lookupPinned as never } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const status = res.statusCode ?? 500;
          resolve(new Response([204, 205, 304].includes(status) ? null : Buffer.concat(chunks), { status }));
        });
        res.on('error', (error) => reject(new ChannelError(`POST ${target.origin}: ${error.message}`)));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (error) => reject(new ChannelError(`POST ${target.origin}: ${error.message}`)));
    req.end(body);
  });
}

/** Posts a signed JSON body; non-2xx answers are failures (5xx, 408 and 429 worth retrying). */
export async function postWebhook(url: string, payload: unknown, options: { secret: string; key: string; timeoutMs?: number; allowPrivate?: boolean }): Promise<number> {
  const pin = options.allowPrivate ? null : await assertPublicUrl(url);
  const body = JSON.stringify(payload);
  const headers = { 'kokyaku-signature': signWebhook(options.secret, body), 'idempotency-key': options.key, 'user-agent': 'Kokyaku-Webhook/1' };
  const response = await postPinned(url, body, headers, options.timeoutMs ?? 10_000, pin);
  if (!response.ok) await failure(response, `webhook ${new URL(url).origin}`);
  return response.status;
}
