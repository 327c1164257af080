import { ImapFlow } from 'imapflow';
import { KokyakuError } from '../shared/errors.js';
import type { MailboxConfig } from './config.js';
import { mailKey, open } from './secrets.js';

/** A connection's row, as sync and sending read it (the secret still sealed). */
export interface ConnectionRow {
  id: string;
  tenant_id: string;
  name: string;
  host: string;
  port: number;
  secure: boolean;
  username: string;
  auth: 'PASSWORD' | 'OAUTH2';
  secret: Buffer | null;
  folders: string[];
  smtp_host: string | null;
  smtp_port: number | null;
  smtp_secure: boolean;
  address: string;
  initial_days: number;
  open_inquiries: boolean;
  excluded: string[];
}

/** The password, or the host's current OAuth2 access token: never stored, never logged. */
export async function credentials(config: MailboxConfig, row: ConnectionRow): Promise<{ user: string; pass?: string; accessToken?: string }> {
  if (row.auth === 'OAUTH2') {
    if (!config.accessToken) throw KokyakuError.configInvalid('mailbox.accessToken is not set: a mailbox connected with OAUTH2 needs the host to give its access tokens.');
    return { user: row.username, accessToken: await config.accessToken({ tenantId: row.tenant_id, id: row.id, username: row.username, host: row.host }) };
  }
  if (!row.secret) throw KokyakuError.configInvalid(`Mailbox "${row.name}" has no password.`);
  return { user: row.username, pass: open(mailKey(config.encryptionKey), row.secret) };
}

/** A connected IMAP client for the mailbox (the caller logs out). */
export async function connectImap(config: MailboxConfig, row: ConnectionRow, options: { idle?: boolean } = {}): Promise<ImapFlow> {
  const client = new ImapFlow({
    host: row.host,
    port: row.port,
    secure: row.secure,
    auth: await credentials(config, row),
    logger: false,
    disableAutoIdle: !options.idle,
    autoIdleDelay: 1000,
    connectionTimeout: config.timeoutSeconds * 1000,
    greetingTimeout: config.timeoutSeconds * 1000,
    socketTimeout: Math.max(60_000, config.pollSeconds * 2000),
    clientInfo: { name: 'Kokyaku' },
    ...(config.tls ? { tls: config.tls } : {}),
  });
  // A socket error after connect would otherwise be an unhandled 'error' event.
  client.on('error', () => {});
  await client.connect();
  return client;
}

/** Error codes of a connection, as the API reports them. */
export type MailErrorCode = 'MAIL_AUTH_FAILED' | 'MAIL_UNREACHABLE' | 'MAIL_TLS_FAILED' | 'MAIL_FOLDER_MISSING' | 'CONFIG_INVALID' | 'MAIL_SYNC_FAILED';

/** What went wrong with a mail server, as a code and a sentence without any secret. */
export function describeMailError(error: unknown): { code: MailErrorCode; message: string } {
  const e = error as { code?: string; authenticationFailed?: boolean; tlsFailed?: boolean; mailboxMissing?: boolean; path?: string; responseText?: string; message?: string };
  if (error instanceof KokyakuError && error.code === 'CONFIG_INVALID') return { code: 'CONFIG_INVALID', message: error.message };
  if (e?.authenticationFailed)
    return { code: 'MAIL_AUTH_FAILED', message: `The mail server refused the user name or the password/token${e.responseText ? ` (${e.responseText})` : ''}.` };
  const codes = [e?.code, (error as { _err?: { code?: string } })?._err?.code, (error as { cause?: { code?: string } })?.cause?.code].filter(Boolean).join(' ');
  const tlsCode = /(^| )(ERR_TLS|ERR_SSL|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT|CERT_)/;
  if (e?.tlsFailed || tlsCode.test(codes) || /certificate|ssl routines|tls handshake/i.test(e?.message ?? ''))
    return { code: 'MAIL_TLS_FAILED', message: 'The TLS handshake with the mail server failed (a wrong port for TLS, or a certificate this machine does not trust).' };
  if (e?.mailboxMissing) return { code: 'MAIL_FOLDER_MISSING', message: `The folder "${e.path ?? '?'}" does not exist on the mail server.` };
  if (
    ['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'ECONNRESET', 'EAI_AGAIN', 'CONNECT_TIMEOUT', 'GREETING_TIMEOUT', 'NoConnection'].includes(
      e?.code ?? '',
    )
  ) {
    return { code: 'MAIL_UNREACHABLE', message: `The mail server cannot be reached (${e.code}).` };
  }
  return { code: 'MAIL_SYNC_FAILED', message: `Mailbox sync failed: ${String(e?.responseText ?? e?.message ?? error).slice(0, 300)}` };
}
