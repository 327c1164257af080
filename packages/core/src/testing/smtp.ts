import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/** A received mail: parsed, with the raw envelope. */
export interface ReceivedMail {
  from: string;
  to: string[];
  subject: string;
  text: string;
  html: string | null;
  messageId: string | null;
  headers: ParsedMail['headers'];
  /** Each header as sent, by lower-case name (the last one of a name wins). */
  raw: Map<string, string>;
}

export interface TestSmtpServer {
  /** `smtp://127.0.0.1:<port>` for `messaging.email.smtp` or `KOKYAKU_SMTP_URL`. */
  url: string;
  /** Every mail accepted, in order. */
  mails: ReceivedMail[];
  /** Waits until at least `count` mails arrived (or fails after `timeoutMs`). */
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedMail[]>;
  /**
   * Called with each mail before it is accepted; throw to refuse it (the client sees a 4xx/5xx),
   * or return a promise to hold the answer.
   */
  beforeAccept: ((mail: ReceivedMail) => Promise<void> | void) | null;
  close(): Promise<void>;
}

/**
 * A real SMTP server on a free local port (the `smtp-server` package) that parses and keeps what
 * it receives. Needs the optional peer dependencies `smtp-server` and `mailparser`.
 *
 * @example
 * const smtp = await startTestSmtp();
 * const kokyaku = await createTestKokyaku(adminUrl, { messaging: { email: { smtp: smtp.url, from: 'shop@example.jp' } } });
 * // ... record an order, run the journey ...
 * const [mail] = await smtp.waitFor(1);
 */
export async function startTestSmtp(options: { auth?: { user: string; pass: string } } = {}): Promise<TestSmtpServer> {
  const mails: ReceivedMail[] = [];
  const waiters: (() => void)[] = [];
  const state: TestSmtpServer = {
    url: '',
    mails,
    beforeAccept: null,
    waitFor: (count, timeoutMs = 10_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          if (mails.length >= count) {
            clearTimeout(timer);
            resolve(mails.slice());
            return true;
          }
          return false;
        };
        const timer = setTimeout(() => reject(new Error(`expected ${count} mails within ${timeoutMs} ms, got ${mails.length}`)), timeoutMs);
        const waiter = () => {
          if (!check()) waiters.push(waiter);
        };
        waiter();
      }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  const server = new SMTPServer({
    // With `auth`, a client must sign in with exactly these (as a mailbox's SMTP server wants).
    authOptional: !options.auth,
    allowInsecureAuth: !!options.auth,
    onAuth(auth, _session, callback) {
      if (options.auth && auth.username === options.auth.user && auth.password === options.auth.pass) return callback(null, { user: auth.username });
      callback(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }));
    },
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      simpleParser(stream)
        .then(async (parsed) => {
          const mail: ReceivedMail = {
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            subject: parsed.subject ?? '',
            text: parsed.text ?? '',
            html: typeof parsed.html === 'string' ? parsed.html : null,
            messageId: parsed.messageId ?? null,
            headers: parsed.headers,
            raw: new Map(parsed.headerLines.map((h) => [h.key, h.line.slice(h.line.indexOf(':') + 1).trim()])),
          };
          await state.beforeAccept?.(mail);
          mails.push(mail);
          callback();
          for (const w of waiters.splice(0)) w();
        })
        .catch((error: Error) => callback(Object.assign(error, { responseCode: 451 })));
    },
  });
  // A client killed mid-conversation (the worker tests SIGKILL their workers) resets its socket:
  // smtp-server reports that as an 'error' event, which without a listener would crash the run.
  server.on('error', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.server.address() as { port: number };
  state.url = `smtp://127.0.0.1:${address.port}`;
  return state;
}
