import type { ChannelAdapter, EmailConfig, LineConfig, SmsProvider, TwilioConfig } from './channels.js';

/** Where messages go out. Channels without configuration are skipped (a send falls back or is withheld). */
export interface MessagingConfig {
  /**
   * The public URL of the Kokyaku HTTP mount (e.g. `https://shop.example/kokyaku`): click and
   * unsubscribe links point there. `KOKYAKU_PUBLIC_URL`; the standalone server fills in its own.
   */
  publicUrl: string | null;
  /** SMTP: `KOKYAKU_SMTP_URL` and `KOKYAKU_MAIL_FROM`. */
  email: EmailConfig | null;
  /** LINE Messaging API: `KOKYAKU_LINE_TOKEN` (and `KOKYAKU_LINE_API_URL`). */
  line: LineConfig | null;
  /** SMS through Twilio: `KOKYAKU_TWILIO_SID`, `KOKYAKU_TWILIO_TOKEN`, `KOKYAKU_SMS_FROM`; or any `SmsProvider`. */
  sms: TwilioConfig | { provider: SmsProvider } | null;
  /** The secret outbound webhooks are signed with (`KOKYAKU_WEBHOOK_SECRET`); without it WEBHOOK steps fail. */
  webhookSecret: string | null;
  /**
   * Let WEBHOOK steps call loopback and private addresses (default false: a journey cannot reach
   * the server's own network). `KOKYAKU_ALLOW_PRIVATE_WEBHOOKS=1`.
   */
  allowPrivateWebhooks: boolean;
  /** Channels of your own (or of a plugin), by channel name; they replace the built-in ones. */
  adapters: Partial<Record<'EMAIL' | 'LINE' | 'SMS', ChannelAdapter>>;
}

export interface AutomationConfig {
  /** Run the journey worker inside `kokyaku serve` (default true; `kokyaku worker` runs one on its own). */
  worker: boolean;
  /** Runs advanced at once per worker process (default 4). */
  concurrency: number;
  /** How often the worker looks for due runs besides being told (default 15 s). */
  sweepSeconds: number;
  /** A run dispatched this long ago and still due is dispatched again (its worker died; default 60 s). */
  staleSeconds: number;
  /** Attempts of a failing step before its message is recorded as FAILED (default 5, backing off from 10 s). */
  retryLimit: number;
  retryDelaySeconds: number;
}
