import { type WriteStream, createWriteStream, existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import {
  EXPORT_KINDS,
  type ExportFormat,
  type ExportKind,
  IMPORT_KINDS,
  type ImportEncoding,
  type ImportKind,
  type Kokyaku,
  type KokyakuUserConfig,
  type RefreshSchedule,
  type ShopConfig,
  createKokyaku,
  defineConfig,
  mergeConfig,
  resolveShop,
  scheduleRefresh,
  shopFromEnv,
} from '@kokyaku/core';
import { Presets, SingleBar } from 'cli-progress';
import { Argument, Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { startStandaloneServer } from '../standalone.js';
import { createCostLimiter } from '../security/rate-limit.js';

function parsePositive(value: string, what: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${what} must be a positive whole number.`);
  return n;
}

function parseBlends(value: string): number[] {
  const weights = value.split(',').map(Number);
  if (weights.some((w) => !(w >= 0 && w <= 1))) throw new InvalidArgumentError('must be popularity weights from 0 to 1, separated by commas.');
  return weights;
}

function parseHours(value: string): number {
  const hours = Number(value);
  if (!Number.isFinite(hours) || hours < 0) throw new InvalidArgumentError('must be a number of hours, 0 or more.');
  return hours;
}

function parseShare(value: string): number {
  const share = Number(value);
  if (!(share > 0 && share <= 1)) throw new InvalidArgumentError('must be a number above 0, up to 1.');
  return share;
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidArgumentError('must be a port number from 0 to 65535.');
  return port;
}

/** The options every command takes. */
interface GlobalOptions {
  config?: string;
  currency?: string;
  country?: string;
  timeZone?: string;
}

export const CONFIG_FILE = 'kokyaku.config.json';

/** A word of the CLI written in another accepted way: `customer` for `customers`, `sjis` for `shift_jis`. */
function oneOf<T extends string>(what: string, values: readonly T[], aliases: Record<string, T> = {}) {
  return (value: string): T => {
    const key = value.trim().toLowerCase();
    const found = values.find((v) => v === key) ?? aliases[key] ?? values.find((v) => v === `${key}s`);
    if (!found) throw new InvalidArgumentError(`${what} must be one of ${values.join(', ')} (not "${value}").`);
    return found;
  };
}

const ENCODINGS = ['utf-8', 'shift_jis'] as const;
const parseEncoding = oneOf<ImportEncoding>('the encoding', ENCODINGS, {
  utf8: 'utf-8',
  sjis: 'shift_jis',
  'shift-jis': 'shift_jis',
  shiftjis: 'shift_jis',
  cp932: 'shift_jis',
  'windows-31j': 'shift_jis',
});

/**
 * The configuration of a command: `kokyaku.config.json` (or `--config`), then the environment
 * (`KOKYAKU_*`, `DATABASE_URL`), then the flags, each over the one before. The shop's settings
 * are resolved as one set (docs/cli.md).
 */
async function loadConfig(globals: GlobalOptions, overrides: KokyakuUserConfig = {}): Promise<{ config: KokyakuUserConfig; file: string | null }> {
  const file = globals.config ?? (existsSync(CONFIG_FILE) ? CONFIG_FILE : null);
  let fromFile: KokyakuUserConfig = {};
  if (file) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      throw new InvalidArgumentError(
        `cannot read the configuration file ${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}.`,
      );
    }
    try {
      fromFile = JSON.parse(text) as KokyakuUserConfig;
    } catch (error) {
      throw new InvalidArgumentError(`${file} is not JSON: ${(error as Error).message}.`);
    }
    if (typeof fromFile !== 'object' || fromFile === null || Array.isArray(fromFile))
      throw new InvalidArgumentError(`${file} must hold a JSON object such as {"shop": {"currency": "JPY"}}.`);
  }
  const flags: Partial<ShopConfig> = {};
  if (globals.currency) flags.currency = globals.currency;
  if (globals.country) flags.defaultCountry = globals.country;
  if (globals.timeZone) flags.timeZone = globals.timeZone;
  const shop = { ...(fromFile.shop ?? {}), ...shopFromEnv(), ...flags };
  return { config: mergeConfig(mergeConfig(fromFile, overrides), { shop }), file };
}

async function open(globals: GlobalOptions, overrides: KokyakuUserConfig = {}): Promise<Kokyaku> {
  const { config: user, file } = await loadConfig(globals, overrides);
  const config = defineConfig(user);
  const where = config.database.url ? 'DATABASE_URL' : `embedded PostgreSQL in ${config.database.embedded.dataDir}`;
  const { derived } = resolveShop(user.shop ?? {});
  const names: Record<keyof ShopConfig, string> = { currency: 'currency', timeZone: 'time zone', defaultCountry: 'country' };
  process.stderr.write(
    `kokyaku: using ${where}${file ? ` and ${path.basename(file)}` : ''}\n` +
      `kokyaku: shop currency ${config.shop.currency}, time zone ${config.shop.timeZone}, country ${config.shop.defaultCountry}` +
      (derived.length ? ` (${derived.map((k) => names[k]).join(', ')} not set, so derived or default: --currency, --time-zone, --country set them)` : '') +
      '\n',
  );
  return createKokyaku(config);
}

/**
 * The refresh every `hours` (0: none): each slot runs once in the fleet of servers and workers
 * on the database, in whichever process claims it first; that one says so on stdout.
 */
function scheduledRefresh(kokyaku: Kokyaku, hours: number): RefreshSchedule | null {
  if (!(hours > 0)) return null;
  return scheduleRefresh(kokyaku, {
    intervalMs: hours * 3_600_000,
    onDone: (result, slot) =>
      process.stdout.write(`kokyaku: refresh of slot ${slot ?? 'now'} done (${result.tenants} shops, ${result.customers} customers, ${result.failures.length} steps failed)\n`),
  });
}

/** Waits for SIGINT/SIGTERM, then runs `stop` once. */
function onShutdown(stop: () => Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    let stopping = false;
    const handler = () => {
      if (stopping) return;
      stopping = true;
      stop().then(resolve, (error: unknown) => {
        process.stderr.write(`kokyaku: error while stopping: ${String(error)}\n`);
        resolve();
      });
    };
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, handler);
  });
}

export function buildProgram(): Command {
  const program = new Command('kokyaku')
    .description(
      'Kokyaku CRM command line. Every command uses DATABASE_URL when it is set, otherwise an embedded ' + 'PostgreSQL kept in .kokyaku/postgres (KOKYAKU_DATA_DIR to move it).',
    )
    .option('--config <file>', `a JSON configuration file (default: ${CONFIG_FILE} in this folder, when there is one)`)
    .option('--currency <code>', "the shop's ISO 4217 currency, e.g. JPY (KOKYAKU_CURRENCY; default: from the country, else USD)")
    .option('--time-zone <zone>', "the shop's IANA time zone, e.g. Asia/Tokyo (KOKYAKU_TIME_ZONE; default: from the country, else UTC)")
    .option(
      '--country <code>',
      'the ISO 3166-1 country phone numbers without +code are read in, e.g. JP (KOKYAKU_DEFAULT_COUNTRY; default: from the time zone or currency, else US)',
    )
    .addHelpText(
      'after',
      `\nThe shop's settings come from ${CONFIG_FILE} ({"shop": {"currency": "JPY", "timeZone": "Asia/Tokyo"}}), then KOKYAKU_CURRENCY,\n` +
        'KOKYAKU_TIME_ZONE and KOKYAKU_DEFAULT_COUNTRY, then the flags; what is not set follows from what is (Asia/Tokyo: JP and JPY).\n' +
        'Every command prints the settings it uses.',
    )
    .showHelpAfterError("(add --help for this command's usage)")
    .exitOverride();
  const globals = () => program.opts<GlobalOptions>();
  serveCommand(program, globals);
  workerCommand(program, globals);
  migrateCommand(program, globals);
  refreshCommand(program, globals);
  importCommand(program, globals);
  exportCommand(program, globals);
  evalRecsCommand(program, globals);
  moveShopCommand(program, globals);
  return program;
}

/** `kokyaku serve` */
function serveCommand(program: Command, globals: () => GlobalOptions): void {
  program
    .command('serve')
    .description('Serve the GraphQL API at /graphql and the staff console at /console (KOKYAKU_ADMIN_TOKEN: the bearer token of the administrator).')
    .option('-p, --port <port>', 'TCP port', parsePort, Number(process.env.PORT ?? 4000))
    .option('--host <host>', 'interface to listen on', '::')
    .option('--explorer', 'also serve the GraphiQL explorer to browsers (needs graphiql@3, react@18)', false)
    .option('--no-console', 'do not serve the staff console at /console')
    .option('--refresh-hours <hours>', 'recompute scores and refit models every so many hours (0: never)', parseHours, 24)
    .option('--no-worker', 'do not run the journey worker and the mailbox follower in this process (run `kokyaku worker` instead)')
    .option(
      '--cost-points <n>',
      'points of costly operations (searches, previews, reports) per actor a minute, shared by every server on the database',
      (v) => parsePositive(v, 'cost-points'),
      600,
    )
    .action(async (options: { port: number; host: string; explorer: boolean; console: boolean; refreshHours: number; worker: boolean; costPoints: number }) => {
      const kokyaku = await open(globals());
      try {
        const server = await startStandaloneServer(kokyaku, {
          port: options.port,
          host: options.host,
          explorer: options.explorer,
          console: options.console ? undefined : false,
          costLimiter: createCostLimiter({ kokyaku, points: options.costPoints }),
        });
        const schedule = scheduledRefresh(kokyaku, options.refreshHours);
        const worker = options.worker && kokyaku.config.automation.worker ? await kokyaku.startWorker() : null;
        const follower = options.worker && kokyaku.config.mailbox.worker ? await kokyaku.startMailboxWorker() : null;
        if (!process.env.KOKYAKU_ADMIN_TOKEN) {
          process.stderr.write('kokyaku: KOKYAKU_ADMIN_TOKEN is not set, so only requests from this machine act as administrator.\n');
        }
        process.stdout.write(`kokyaku: GraphQL API at ${server.url}\n`);
        if (server.consoleUrl) process.stdout.write(`kokyaku: staff console at ${server.consoleUrl} (sign in with KOKYAKU_ADMIN_TOKEN)\n`);
        await onShutdown(async () => {
          schedule?.stop();
          await follower?.stop();
          await worker?.stop();
          await server.close();
          await kokyaku.close();
        });
      } catch (error) {
        await kokyaku.close();
        throw error;
      }
    });
}

/** `kokyaku worker` */
function workerCommand(program: Command, globals: () => GlobalOptions): void {
  program
    .command('worker')
    .description(
      "Run the journey worker alone: advances journey runs and sends their messages, and follows the shops' mailboxes, until SIGINT/SIGTERM. Any number may run against one database.",
    )
    .option('-c, --concurrency <n>', 'runs advanced at once', (v) => parsePositive(v, 'concurrency'))
    .option('--sweep-seconds <s>', 'look for due runs this often', (v) => parsePositive(v, 'sweep-seconds'))
    .option('--stale-seconds <s>', 'dispatch a run again when its worker has not finished it after this long', (v) => parsePositive(v, 'stale-seconds'))
    .option('--refresh-hours <hours>', 'recompute scores and refit models every so many hours, once in the whole fleet (0: never)', parseHours, 24)
    .action(async (options: { concurrency?: number; sweepSeconds?: number; staleSeconds?: number; refreshHours: number }) => {
      const kokyaku = await open(globals(), {
        automation: { concurrency: options.concurrency, sweepSeconds: options.sweepSeconds, staleSeconds: options.staleSeconds },
      });
      try {
        const schedule = scheduledRefresh(kokyaku, options.refreshHours);
        const worker = await kokyaku.startWorker({ log: (m) => process.stderr.write(`kokyaku worker: ${m}\n`) });
        const follower = kokyaku.config.mailbox.worker ? await kokyaku.startMailboxWorker({ log: (m) => process.stderr.write(`kokyaku mailbox: ${m}\n`) }) : null;
        const channels = kokyaku.journeys.engine.configuredChannels();
        process.stdout.write(`kokyaku: journey worker started (channels: ${channels.length ? channels.join(', ') : 'none configured'})\n`);
        await onShutdown(async () => {
          schedule?.stop();
          await follower?.stop();
          await worker.stop();
          await kokyaku.close();
        });
      } catch (error) {
        await kokyaku.close();
        throw error;
      }
    });
}

/** `kokyaku migrate` */
function migrateCommand(program: Command, globals: () => GlobalOptions): void {
  program
    .command('migrate')
    .description('Apply pending database migrations.')
    .action(async () => {
      const kokyaku = await open(globals(), { database: { migrate: false } });
      try {
        const applied = await kokyaku.migrate();
        process.stdout.write(applied.length ? `kokyaku: applied ${applied.join(', ')}\n` : 'kokyaku: database is up to date\n');
      } finally {
        await kokyaku.close();
      }
    });
}

/** `kokyaku refresh` */
function refreshCommand(program: Command, globals: () => GlobalOptions): void {
  program
    .command('refresh')
    .description(
      'Recompute everything derived, synchronously: customer metrics, RFM scores and deciles, CLV models, recommendation neighbours, lead scores and saved segment members.',
    )
    .action(async () => {
      const kokyaku = await open(globals());
      try {
        const started = Date.now();
        const result = await kokyaku.refresh();
        process.stdout.write(
          `kokyaku: refreshed ${result.customers} customers in ${result.tenants} tenant(s), ${result.segmentChanges} segment membership change(s), CLV models fitted for ${result.clvFitted}, in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
        );
        // The other steps ran; a failed one still fails the command, so that a nightly job notices.
        if (result.failures.length > 0) {
          throw new Error(`${result.failures.length} step(s) failed: ${result.failures.map((f) => `${f.step} of tenant ${f.tenantId} (${f.message})`).join('; ')}`);
        }
      } finally {
        await kokyaku.close();
      }
    });
}

/** `kokyaku move-shop` */
function moveShopCommand(program: Command, globals: () => GlobalOptions): void {
  program
    .command('move-shop')
    .description(
      "Move every row of one shop (tenant) from this database to another migrated alike, then erase it here. Stop the shop's writes first; run again after a failure (docs/scaling.md).",
    )
    .argument('<shop>', 'the tenant to move')
    .requiredOption('--to <url>', 'connection string of the target database')
    .action(async (shop: string, options: { to: string }) => {
      const kokyaku = await open(globals());
      try {
        const moved = await kokyaku.moveShop(shop, options.to, {
          onTable: (table, rows) => {
            if (rows > 0) process.stderr.write(`kokyaku: ${table}: ${rows} rows copied\n`);
          },
        });
        process.stdout.write(
          `kokyaku: moved shop ${shop} (${moved.rows} rows in ${moved.tables.filter((t) => t.rows > 0).length} tables${moved.resumed ? ', the copy was already there' : ''}) in ${moved.seconds.toFixed(1)} s, and erased it here\n`,
        );
      } finally {
        await kokyaku.close();
      }
    });
}

/** `kokyaku import` */
function importCommand(program: Command, globals: () => GlobalOptions): void {
  program
    .command('import')
    .description('Import a CSV file of customers, products, orders (one row per order line) or events. Streams, resumes after a stop, and changes nothing the second time.')
    .addArgument(new Argument('<kind>', `what the file holds: ${IMPORT_KINDS.join(', ')}`).argParser(oneOf<ImportKind>('kind', IMPORT_KINDS)))
    .argument('<file>', 'the CSV file (UTF-8 with or without BOM, or Shift_JIS)')
    .option('--map <field=header...>', 'use this column for a field (repeatable), e.g. --map customerId=Member_number')
    .option('--mapping <file>', 'a JSON file {"field": "header"} with the same meaning')
    .option('--order-key <headers>', 'orders without an order id: the columns that together name an order, e.g. Member_number,Date')
    .addOption(new Option('--encoding <encoding>', 'utf-8 or shift_jis (also sjis, cp932; default: detected)').argParser(parseEncoding))
    .option('--delimiter <char>', 'field separator (default ,)')
    .option('--dry-run', 'show the column mapping and the first problems; write nothing')
    .option('--errors <file>', 'write every refused row (line, column, reason) to this CSV file')
    .option('--tenant <tenant>', 'tenant to import into (default: the default tenant)')
    .option(
      '--share <share>',
      'the share of time the import may keep the database busy, above 0 up to 1 (KOKYAKU_IMPORT_SHARE; default 1): 0.25 rests three times as long as it works, for shops sharing a database',
      parseShare,
    )
    .action(
      async (
        kind: ImportKind,
        file: string,
        options: {
          map?: string[];
          mapping?: string;
          orderKey?: string;
          encoding?: ImportEncoding;
          delimiter?: string;
          dryRun?: boolean;
          errors?: string;
          tenant?: string;
          share?: number;
        },
      ) => {
        const mapping: Record<string, string> = {};
        if (options.mapping) Object.assign(mapping, JSON.parse(await readFile(options.mapping, 'utf8')) as Record<string, string>);
        for (const pair of options.map ?? []) {
          const at = pair.indexOf('=');
          if (at < 1) throw new InvalidArgumentError(`--map takes field=header, not "${pair}".`);
          mapping[pair.slice(0, at).trim()] = pair.slice(at + 1).trim();
        }
        const kokyaku = await open(globals());
        const bar = new SingleBar(
          { format: 'kokyaku: {phase} [{bar}] {percentage}% | {rowsRead} rows read, {rowsFailed} refused, {rowsApplied} applied', hideCursor: true, stream: process.stderr },
          Presets.shades_classic,
        );
        let barStarted = false;
        try {
          const result = await kokyaku.imports.run(kokyaku.context({ tenantId: options.tenant }), {
            kind,
            file,
            mapping,
            orderKey: options.orderKey
              ?.split(',')
              .map((h) => h.trim())
              .filter(Boolean),
            encoding: options.encoding,
            delimiter: options.delimiter,
            dryRun: options.dryRun,
            errorReport: options.errors,
            share: options.share,
            onProgress: (p) => {
              const payload = { phase: p.phase.toLowerCase(), rowsRead: p.rowsRead, rowsFailed: p.rowsFailed, rowsApplied: p.rowsApplied };
              const value = p.phase === 'STAGING' ? p.bytesRead : p.bytesTotal;
              if (!barStarted) {
                bar.start(Math.max(p.bytesTotal, 1), value, payload);
                barStarted = true;
              } else bar.update(value, payload);
            },
          });
          if (barStarted) bar.stop();
          const out = [
            `kokyaku: ${options.dryRun ? 'dry run of' : 'imported'} ${kind} from ${file} (${result.encoding}${result.resumed ? ', resumed' : ''}) in ${result.seconds.toFixed(1)} s`,
            `  columns: ${Object.entries(result.mapping.headers)
              .map(([f, h]) => `${f} <- "${h}"`)
              .join(', ')}`,
            ...(result.mapping.unused.length ? [`  not used: ${result.mapping.unused.map((h) => `"${h}"`).join(', ')}`] : []),
            `  ${result.rowsRead} rows read, ${result.rowsValid} ${options.dryRun ? 'would be stored' : 'stored'}${result.rowsWarned ? ` (${result.rowsWarned} without a value that could not be read)` : ''}, ${result.rowsFailed} refused (${Math.round(result.rowsRead / Math.max(result.seconds, 0.001))} rows/s)`,
            ...result.problems.slice(0, 10).map((p) => `  line ${p.line}${p.column ? `, ${p.column}` : ''}: ${p.stored ? 'warning: ' : ''}${p.reason}`),
            ...(result.problems.length > 10 ? [`  ... more${options.errors ? ` in ${options.errors}` : ' (--errors <file> lists them all)'}`] : []),
          ];
          process.stdout.write(`${out.join('\n')}\n`);
        } finally {
          if (barStarted) bar.stop();
          await kokyaku.close();
        }
      },
    );
}

/** `kokyaku export` */
function exportCommand(program: Command, globals: () => GlobalOptions): void {
  program
    .command('export')
    .description('Export customers (with metrics and segments), orders (a row per line) or segments to CSV or JSON, streaming.')
    .addArgument(new Argument('<kind>', `what to export: ${EXPORT_KINDS.join(', ')}`).argParser(oneOf<ExportKind>('kind', EXPORT_KINDS)))
    .argument('<file>', 'where to write it; - for standard output')
    .addOption(new Option('--format <format>', 'csv or json (default: from the file name, else csv)').argParser(oneOf<ExportFormat>('the format', ['csv', 'json'])))
    .option('--segment <query>', 'customers: only those this segment query selects')
    .option('--tenant <tenant>', 'tenant to export (default: the default tenant)')
    .action(async (kind: ExportKind, file: string, options: { format?: ExportFormat; segment?: string; tenant?: string }) => {
      const format: ExportFormat = options.format ?? (file.endsWith('.json') ? 'json' : 'csv');
      const kokyaku = await open(globals());
      try {
        const started = Date.now();
        const out = file === '-' ? process.stdout : createWriteStream(file);
        const { rows } = await kokyaku.exports.export(kokyaku.context({ tenantId: options.tenant, actor: { id: 'cli', roles: ['ADMIN'] } }), out, {
          kind,
          format,
          segment: options.segment,
        });
        if (out !== process.stdout) await new Promise<void>((resolve, reject) => (out as WriteStream).end((error?: Error | null) => (error ? reject(error) : resolve())));
        process.stderr.write(`kokyaku: exported ${rows} ${kind === 'orders' ? 'order lines' : kind} to ${file} (${format}) in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
      } finally {
        await kokyaku.close();
      }
    });
}

/** `kokyaku eval-recs` */
function evalRecsCommand(program: Command, globals: () => GlobalOptions): void {
  program
    .command('eval-recs')
    .description("Measure each recommendation strategy on the shop's own history (each customer's last basket held out).")
    .option('--k <k>', 'list length', (v) => parsePositive(v, 'k'), 10)
    .option('--sample <n>', 'customers to evaluate', (v) => parsePositive(v, 'sample'), 2000)
    .option('--blends <weights>', 'also measure FOR_CUSTOMER at these popularity weights, e.g. 0,0.5,0.9', parseBlends)
    .option('--tenant <tenant>', 'tenant to evaluate (default: the default tenant)')
    .action(async (options: { k: number; sample: number; blends?: number[]; tenant?: string }) => {
      const kokyaku = await open(globals());
      try {
        const started = Date.now();
        const evaluation = await kokyaku.recommendations.evaluate(kokyaku.context({ tenantId: options.tenant }), {
          k: options.k,
          sample: options.sample,
          blends: options.blends,
        });
        const blend = await kokyaku.recommendations.blend(kokyaku.context({ tenantId: options.tenant }));
        process.stdout.write(
          [
            `kokyaku: ${evaluation.customers} of ${evaluation.eligibleCustomers} customers with a held-out basket, as of ${evaluation.asOf.slice(0, 10)}, in ${((Date.now() - started) / 1000).toFixed(1)} s`,
            '',
            `Held-out items bought before (repeat): ${(evaluation.repeatShare * 100).toFixed(1)}%`,
            `FOR_CUSTOMER blend of the shop: popularity weight ${blend.popularity}, repeat weight ${blend.repeat}, cycles ${blend.cycles ? 'on' : 'off'} (${evaluation.blend?.measuredAt ? `measured ${evaluation.blend.measuredAt.slice(0, 10)}` : 'configured, or not measured yet'})`,
            ...(evaluation.blend?.rows.length
              ? [
                  'Why: the best blends the refresh compared (hit rate + recall at 10, its own sample of customers):',
                  ...[...evaluation.blend.rows]
                    .sort((a, b) => b.hitRate + b.recall - (a.hitRate + a.recall))
                    .slice(0, 5)
                    .map(
                      (r) =>
                        `  popularity ${r.popularityWeight}, repeat ${r.repeatWeight}, cycles ${r.cycles ? 'on' : 'off'}: hit rate ${r.hitRate.toFixed(3)}, recall ${r.recall.toFixed(3)}`,
                    ),
                ]
              : []),
            '',
            `| strategy (top ${evaluation.k}) | hit rate | recall | NDCG | recall: repeat + explore | NDCG: repeat + explore |`,
            '|---|---:|---:|---:|---:|---:|',
            ...[
              ...evaluation.rows.map((r) => ({
                ...r,
                name: `${r.strategy}${r.popularityWeight === undefined ? '' : ` at popularity weight ${r.popularityWeight}, repeat weight ${r.repeatWeight}, cycles ${r.cycles ? 'on' : 'off'}`}`,
              })),
              ...evaluation.baselines.map((r) => ({ ...r, name: `${r.baseline} (baseline)` })),
            ].map(
              (r) =>
                `| ${r.name} | ${r.hitRate.toFixed(3)} | ${r.recall.toFixed(3)} | ${r.ndcg.toFixed(3)} | ${r.repeat.recall.toFixed(3)} + ${r.explore.recall.toFixed(3)} | ${r.repeat.ndcg.toFixed(3)} + ${r.explore.ndcg.toFixed(3)} |`,
            ),
            '',
          ].join('\n'),
        );
      } finally {
        await kokyaku.close();
      }
    });
}

/**
 * Runs the CLI; returns the exit code. Every failure prints one line: commander's own (a bad
 * option or argument) or `kokyaku: <what went wrong>` for an error inside a command.
 */
export async function runCli(argv: string[]): Promise<number> {
  const program = buildProgram();
  let printed = false;
  const output = { outputError: (text: string, write: (text: string) => void) => ((printed = true), write(text)) };
  program.configureOutput(output);
  for (const command of program.commands) command.configureOutput(output);
  if (argv.length <= 2) {
    program.outputHelp();
    return 1;
  }
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return 0;
      if (!printed) process.stderr.write(`kokyaku: ${error.message.replace(/^error: /, '')}\n`);
      return error.exitCode || 1;
    }
    process.stderr.write(`kokyaku: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}
