import pino, { type Logger } from 'pino';

/**
 * Personal fields never reach a log line: wherever they appear (a record, a batch item, an
 * error's details or a database error's `detail`, which quotes the offending value), pino
 * replaces them with "[redacted]".
 */
export const PERSONAL_FIELDS = [
  'email',
  'phone',
  'firstName',
  'lastName',
  'first_name',
  'last_name',
  'firstNameKana',
  'lastNameKana',
  'first_name_kana',
  'last_name_kana',
  'birthday',
  'address',
  'postalCode',
  'postal_code',
  'city',
  'detail',
  'authorization',
  'cookie',
];

const REDACT = PERSONAL_FIELDS.flatMap((f) => [f, `*.${f}`, `*.*.${f}`, `*[*].${f}`, `*.*[*].${f}`]);

export type { Logger };

/** Kokyaku's logger: JSON lines (pino) with personal fields redacted. */
export function createLogger(options: { level?: string; destination?: pino.DestinationStream } = {}): Logger {
  const settings: pino.LoggerOptions = {
    name: 'kokyaku',
    level: options.level ?? process.env.KOKYAKU_LOG_LEVEL ?? 'info',
    redact: { paths: REDACT, censor: '[redacted]' },
    serializers: { err: pino.stdSerializers.err },
  };
  return options.destination ? pino(settings, options.destination) : pino(settings);
}
