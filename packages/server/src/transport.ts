import type { RequestIdentity } from './context.js';
import type { Kokyaku } from '@kokyaku/core';

/**
 * What every mount answers outside GraphQL proper: requests refused before they reach it (a body
 * over the limit, a body that is not JSON) in GraphQL's error shape with a code, and the health
 * and readiness probes.
 */
export type TransportCode = 'PAYLOAD_TOO_LARGE' | 'BAD_REQUEST';

export interface TransportAnswer {
  status: number;
  body: { errors: { message: string; extensions: Record<string, unknown> }[] };
}

export function transportError(code: TransportCode, message: string): TransportAnswer {
  return { status: code === 'PAYLOAD_TOO_LARGE' ? 413 : 400, body: { errors: [{ message, extensions: { code } }] } };
}

export const payloadTooLarge = (limit: string | number) =>
  transportError(
    'PAYLOAD_TOO_LARGE',
    `The request body is larger than ${typeof limit === 'number' ? `${limit} bytes` : limit}: send the batch in smaller parts (at most 10,000 items each).`,
  );

/** Strict UTF-8 for whole request bodies (never `stream: true`, so one decoder serves every request); throws on bad bytes. */
export const utf8 = new TextDecoder('utf-8', { fatal: true });

export const notUtf8 = () => transportError('BAD_REQUEST', 'The request body is not valid UTF-8: send text encoded as UTF-8.');

export const notJson = () => transportError('BAD_REQUEST', 'The request body is not valid JSON (NaN, Infinity and comments are not JSON).');

/** `/healthz`: the process is alive. `/readyz`: it can serve (database reachable, migrated). */
export async function probe(kokyaku: Kokyaku, which: 'healthz' | 'readyz'): Promise<{ status: number; body: Record<string, unknown> }> {
  if (which === 'healthz') return { status: 200, body: { ok: true } };
  const readiness = await kokyaku.ready();
  return { status: readiness.ready ? 200 : 503, body: { ok: readiness.ready, ...readiness } };
}

/**
 * `/metrics`: the process's Prometheus metrics (kokyaku.telemetry), for administrators only (a
 * bearer token of an ADMIN actor, as Prometheus's `authorization` setting sends it): they name
 * operations, pools and replicas, never tenants or customers.
 */
export async function metricsAnswer(kokyaku: Kokyaku, identity: RequestIdentity): Promise<{ status: number; contentType: string; body: string }> {
  if (!identity.actor) return { status: 401, contentType: 'text/plain', body: 'Metrics need an administrator: send its bearer token.\n' };
  if (!identity.actor.roles.includes('ADMIN')) return { status: 403, contentType: 'text/plain', body: 'Metrics are for administrators.\n' };
  const { contentType, body } = await kokyaku.telemetry.metrics();
  return { status: 200, contentType, body };
}
