import type { ConnectionOptions } from 'node:tls';

/** Mailbox sync (docs/mailbox.md). */
export interface MailboxConfig {
  /**
   * The key mailbox secrets (passwords) are encrypted with: 32 bytes, as 64 hex digits or base64
   * (`KOKYAKU_MAIL_KEY`; `openssl rand -base64 32`). Without it no mailbox with a password can be
   * connected. Changing it makes stored secrets unreadable: connect the mailboxes again.
   */
  encryptionKey: string | null;
  /**
   * OAuth2 (Gmail, Outlook): the current access token of a mailbox connected with `auth: OAUTH2`.
   * The host keeps and refreshes the tokens; Kokyaku asks before each connection and never stores them.
   */
  accessToken: ((mailbox: { tenantId: string; id: string; username: string; host: string }) => Promise<string>) | null;
  /** Run the mailbox follower inside `kokyaku serve` (default true; `kokyaku worker` runs one too). */
  worker: boolean;
  /** How often a mailbox without IDLE is polled, and how often every followed folder is checked (default 60 s). */
  pollSeconds: number;
  /** Messages fetched and stored per transaction (default 50). */
  chunkSize: number;
  /** Largest message read whole, in bytes (default 10 MB): larger ones are stored with their headers and no body. */
  maxMessageBytes: number;
  /** How long to wait for a mail server to answer (default 15 s). */
  timeoutSeconds: number;
  /** TLS options for the mail servers (e.g. `{ ca }` for a server with a certificate of a private CA). */
  tls: ConnectionOptions | null;
}

export const DEFAULT_MAILBOX_CONFIG: Omit<MailboxConfig, 'encryptionKey'> = {
  accessToken: null,
  worker: true,
  pollSeconds: 60,
  chunkSize: 50,
  maxMessageBytes: 10 * 1024 * 1024,
  timeoutSeconds: 15,
  tls: null,
};
