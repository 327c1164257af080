import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { StringDecoder } from 'node:string_decoder';
import { parse } from 'csv-parse';
import iconv from 'iconv-lite';
import type { KokyakuContext } from '../shared/context.js';
import type { BatchResult } from '../ingestion/batch.js';
import { KokyakuError } from '../shared/errors.js';
import { SYSTEM, asDate, bindTenant, sql, sqlOne } from '../shared/sql.js';
import { storableForm, textProblem } from '../shared/validation.js';
import { type ColumnMapping, IMPORT_KINDS, type ImportKind, resolveMapping } from './columns.js';
import { CellError, csvCell, readAmount, readBoolean, readDate, readInstant, readList, readPostalCode, readQuantity, splitName } from '../shared/cells.js';

export type ImportEncoding = 'utf-8' | 'shift_jis';

export interface ImportOptions {
  kind: ImportKind;
  /** Path of the CSV file on the server. */
  file: string;
  /** field -> header, overriding automatic matching (a mapping file's content). */
  mapping?: Record<string, string>;
  /** Orders without an order id column: the columns whose values together name an order (e.g. member and date). */
  orderKey?: string[];
  /** Default: detected (UTF-8 with or without BOM, else Shift_JIS / CP932). */
  encoding?: ImportEncoding;
  /** Field separator (default ","). */
  delimiter?: string;
  /** Show the mapping and the first problems; write nothing. */
  dryRun?: boolean;
  /** Where to write the rows that were refused (CSV: line, column, reason, value). */
  errorReport?: string;
  /** Rows per batch (default 1,000). */
  batchSize?: number;
  /**
   * The share of time the import may keep the database busy, from 0 (exclusive) to 1 (default:
   * `imports.share`, 1 unless set): after each batch it rests for what the batch took times
   * (1 / share - 1). On a database shared by many shops, 0.25 keeps one shop's import from
   * slowing the others' requests (docs/scaling.md), at four times the import's time.
   */
  share?: number;
  onProgress?: (progress: ImportProgress) => void;
  /** Called once the header is read and matched: the run has started (callers that do not wait return here). */
  onStart?: (started: { runId: string | null; mapping: ColumnMapping; encoding: ImportEncoding; resumed: boolean }) => void;
}

export interface ImportProblem {
  /** Line of the file where the row starts (the header is line 1). */
  line: number;
  column: string | null;
  reason: string;
  value?: string;
  /**
   * True for a warning: the row was stored without this value (a bad phone, email or other
   * optional cell). False (or absent): the row was refused.
   */
  stored?: boolean;
}

export interface ImportProgress {
  runId: string | null;
  kind: ImportKind;
  phase: 'STAGING' | 'APPLYING' | 'DONE';
  /** Bytes of the file read so far, and its size. */
  bytesRead: number;
  bytesTotal: number;
  rowsRead: number;
  rowsFailed: number;
  rowsApplied: number;
}

export interface ImportResult extends ImportProgress {
  encoding: ImportEncoding;
  mapping: ColumnMapping;
  /** Rows stored (or, in a dry run, that would be). */
  rowsValid: number;
  /** Of those, the rows stored without an optional value that could not be read (each a warning). */
  rowsWarned: number;
  /** The first problems, refusals and warnings, by line (all of them are in the error report). */
  problems: ImportProblem[];
  /** True when this run picked up a run of the same file that had stopped half-way. */
  resumed: boolean;
  seconds: number;
}

export interface ImportRun {
  id: string;
  kind: ImportKind;
  fileName: string;
  status: 'STAGING' | 'APPLYING' | 'DONE';
  rowsRead: number;
  rowsFailed: number;
  rowsApplied: number;
  startedAt: Date;
  updatedAt: Date;
  finishedAt: Date | null;
}

/** How ingestion is called for a batch of staged documents. */
export interface ImportSinks {
  customers(ctx: KokyakuContext, docs: unknown[]): Promise<BatchResult>;
  products(ctx: KokyakuContext, docs: unknown[]): Promise<BatchResult>;
  orders(ctx: KokyakuContext, docs: unknown[]): Promise<BatchResult>;
  events(ctx: KokyakuContext, docs: unknown[]): Promise<BatchResult>;
  /** Validation only (dry runs): the errors ingestion would report. */
  validate(ctx: KokyakuContext, kind: ImportKind, docs: unknown[]): BatchResult['errors'] | Promise<BatchResult['errors']>;
}

/** One import while it runs: what it was asked, how far it got, what it found. */
interface ImportState {
  ctx: KokyakuContext;
  options: ImportOptions;
  settings: { mapping: Record<string, string>; orderKey: string[]; encoding: ImportEncoding; delimiter: string };
  run: { id: string; status: ImportRun['status']; staged_through: number; resumed: boolean } | null;
  encoding: ImportEncoding;
  batchSize: number;
  pace: Pacer;
  progress: ImportProgress;
  problems: ImportProblem[];
  pending: Staged[];
  mapping: ColumnMapping | null;
  rowsValid: number;
  rowsWarned: number;
}

/** A parsed CSV record with csv-parse's info. */
interface CsvRecord {
  record: string[];
  info: { lines: number };
  raw: string;
}

interface Staged {
  line: number;
  key: string;
  doc: Record<string, unknown> | null;
  error: ImportProblem | null;
  /** Optional values left out of `doc`, each with its reason. */
  warnings: ImportProblem[] | null;
}

/**
 * The fields of each kind that a row can do without: a value of one that cannot be read or is
 * refused by ingestion is left out, the row is stored, and the value is reported as a warning.
 * Every other field (ids, names and prices of products, everything of an order) refuses the row.
 */
const OPTIONAL_FIELDS: Record<ImportKind, ReadonlySet<string>> = {
  customers: new Set([
    'email',
    'phone',
    'firstName',
    'lastName',
    'firstNameKana',
    'lastNameKana',
    'birthday',
    'city',
    'region',
    'country',
    'tags',
    'customFields',
    'emailConsent',
    'createdAt',
  ]),
  products: new Set(),
  orders: new Set(),
  events: new Set(),
};

const KEEP_PROBLEMS = 100;

/** The tables an import of each kind fills. */
const ANALYZE: Record<ImportKind, string[]> = {
  customers: ['customers', 'customer_facts'],
  products: ['products'],
  orders: ['orders', 'order_lines', 'customers', 'customer_facts', 'products', 'customer_products'],
  events: ['events', 'customers', 'customer_facts', 'products'],
};

async function detectEncoding(file: string): Promise<ImportEncoding> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(64 * 1024);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    let sample = buffer.subarray(0, bytesRead);
    // A cut multi-byte character at the end of the sample is not an error.
    for (let cut = 0; cut < 4 && sample.length > 0; cut++) {
      try {
        new TextDecoder('utf-8', { fatal: true }).decode(sample);
        return 'utf-8';
      } catch {
        if (bytesRead < buffer.length) break;
        sample = sample.subarray(0, sample.length - 1);
      }
    }
    return 'shift_jis';
  } finally {
    await handle.close();
  }
}

/** The file's text: UTF-8 as it is, Shift_JIS through CP932 decoding. */
function decode(source: Readable, encoding: ImportEncoding): Readable {
  return encoding === 'utf-8' ? source : (source.pipe(iconv.decodeStream('cp932')) as unknown as Readable);
}

async function hashFile(file: string): Promise<{ hash: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(file)) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { hash: hash.digest('hex'), size };
}

/**
 * CSV import of customers, products, orders (one row per order line) and events. Streams the file
 * (constant memory), matches headers in English and Japanese, converts and checks each row, and
 * stages the good rows in PostgreSQL before handing them to ingestion in batches. Refused rows are
 * reported by line, column and reason. Importing the same file again changes nothing; a run killed
 * half-way resumes where it stopped when started again.
 */
export class ImportService {
  constructor(
    private readonly sinks: ImportSinks,
    private readonly config: { share: number } = { share: 1 },
  ) {}

  async run(ctx: KokyakuContext, options: ImportOptions): Promise<ImportResult> {
    const started = performance.now();
    if (!IMPORT_KINDS.includes(options.kind)) throw KokyakuError.badInput(`Unknown kind "${options.kind}"; one of ${IMPORT_KINDS.join(', ')}.`, { field: 'kind' });
    const { hash, size } = await hashFile(options.file).catch((error: NodeJS.ErrnoException) => {
      throw KokyakuError.badInput(`Cannot read ${options.file}: ${error.code === 'ENOENT' ? 'no such file' : error.message}.`, { field: 'file' });
    });
    const encoding = options.encoding ?? (await detectEncoding(options.file));
    const settings = { mapping: options.mapping ?? {}, orderKey: options.orderKey ?? [], encoding, delimiter: options.delimiter ?? ',' };
    const run = options.dryRun ? null : await this.openRun(ctx, options.kind, path.basename(options.file), hash, settings);
    const state: ImportState = {
      ctx,
      options,
      settings,
      run,
      encoding,
      batchSize: options.batchSize ?? 1000,
      pace: new Pacer(options.share ?? this.config.share ?? 1),
      progress: { runId: run?.id ?? null, kind: options.kind, phase: run?.status ?? 'STAGING', bytesRead: 0, bytesTotal: size, rowsRead: 0, rowsFailed: 0, rowsApplied: 0 },
      problems: [],
      pending: [],
      mapping: null,
      rowsValid: 0,
      rowsWarned: 0,
    };

    if (!run || run.status === 'STAGING') {
      await this.stageFile(state);
      if (options.dryRun) {
        state.problems.sort((a, b) => a.line - b.line);
        const { progress, mapping, rowsValid, rowsWarned, problems } = state;
        return { ...progress, phase: 'STAGING', encoding, mapping: mapping!, rowsValid, rowsWarned, problems, resumed: false, seconds: (performance.now() - started) / 1000 };
      }
      await sql(ctx.em, `update kokyaku.import_runs set status = 'APPLYING', rows_read = $2, rows_failed = $3, updated_at = now() where tenant_id = $4 and id = $1`, [
        run!.id,
        state.progress.rowsRead,
        state.progress.rowsFailed,
        ctx.tenantId,
      ]);
      state.progress.phase = 'APPLYING';
    } else {
      // Staged before a stop: read the header only, for the mapping in the result.
      state.mapping = await this.mappingOf(options, settings);
      options.onStart?.({ runId: run.id, mapping: state.mapping, encoding, resumed: run.resumed });
    }
    await this.apply(ctx, run!.id, options.kind, state.batchSize, state.mapping!, state.progress, options.onProgress, state.pace);
    return this.finish(state, started);
  }

  /** Reads the file and stages every row (the good ones as documents, the others with their problem), in batches. */
  private async stageFile(state: ImportState): Promise<void> {
    const { options, settings } = state;
    const source = createReadStream(options.file);
    source.on('data', (chunk) => {
      state.progress.bytesRead += (chunk as Buffer).length;
    });
    // csv-parse counts a CR LF inside a quoted field as two lines: with LF only, its line
    // numbers are the file's.
    const lf = lineFeeds();
    // A malformed row (a stray quote) is reported and skipped, not the end of the import.
    const parser = parse({
      bom: true,
      info: true,
      raw: true,
      relax_column_count: true,
      relax_quotes: true,
      skip_empty_lines: true,
      skip_records_with_error: true,
      delimiter: settings.delimiter,
    });
    parser.on('skip', (error: Error & { lines?: number }) => {
      const line = error.lines ?? 0;
      const problem: ImportProblem = { line, column: null, reason: `cannot be read as CSV: ${error.message}` };
      state.progress.rowsRead++;
      state.progress.rowsFailed++;
      if (state.problems.length < KEEP_PROBLEMS && !options.dryRun) state.problems.push(problem);
      state.pending.push({ line, key: '', doc: null, error: problem, warnings: null });
    });
    const convert = this.converter(options.kind, state.ctx.shop.timeZone, settings.orderKey);
    let headers: string[] | null = null;
    const sink = new Transform({
      objectMode: true,
      transform: (record: CsvRecord, _enc, done) => {
        if (!headers) {
          headers = record.record.map((h) => h.trim());
          this.readHeaders(state, headers).then(() => done(), done);
          return;
        }
        const full = this.stageRow(state, record, headers, convert);
        if (full) this.flushStaged(state).then(() => done(), done);
        else done();
      },
      flush: (done) => {
        this.flushStaged(state).then(() => done(), done);
      },
    });
    try {
      await pipeline(decode(source, state.encoding), lf, parser, sink);
    } catch (error) {
      if (error instanceof KokyakuError) throw error;
      throw KokyakuError.badInput(`${options.file} is not a CSV file Kokyaku can read: ${(error as Error).message}`, { field: 'file' });
    }
    if (!state.mapping) throw KokyakuError.badInput(`${options.file} is empty: no header row.`, { field: 'file' });
  }

  /** The header row: which column is which field. */
  private async readHeaders(state: ImportState, headers: string[]): Promise<void> {
    const { options, settings, run } = state;
    state.mapping = resolveMapping(options.kind, headers, settings.mapping, { optional: settings.orderKey.length ? ['orderId'] : [] });
    for (const column of settings.orderKey) {
      if (!headers.some((h) => h === column)) throw KokyakuError.badInput(`--order-key names "${column}", which is not a header of the file.`, { field: 'orderKey' });
    }
    options.onStart?.({ runId: run?.id ?? null, mapping: state.mapping, encoding: state.encoding, resumed: run?.resumed ?? false });
  }

  /** One row, converted and checked, onto the pending batch; true when the batch is full. */
  private stageRow(state: ImportState, record: CsvRecord, headers: string[], convert: Converter): boolean {
    const line = record.info.lines - (record.raw.replace(/\r?\n$/, '').match(/\n/g)?.length ?? 0);
    state.progress.rowsRead++;
    if (state.run && line <= state.run.staged_through) return false;
    const staged = this.stage(line, record.record, headers, state.mapping!, convert, state.encoding);
    if (staged.error) {
      state.progress.rowsFailed++;
      if (state.problems.length < KEEP_PROBLEMS && !state.options.dryRun) state.problems.push(staged.error);
    }
    state.pending.push(staged);
    return state.pending.length >= state.batchSize;
  }

  /** The pending batch: checked without writing (dry run), else staged in PostgreSQL with the run's progress. */
  private async flushStaged(state: ImportState): Promise<void> {
    const batch = state.pending;
    state.pending = [];
    if (batch.length === 0) return;
    await state.pace.rest();
    if (state.options.dryRun) {
      await this.checkDry(state, batch);
      return;
    }
    const { ctx, run, progress } = state;
    await sql(
      ctx.em,
      `insert into kokyaku.import_rows (run_id, tenant_id, line, key, doc, error, warnings)
       select $1, $2, r.line, r.key, r.doc, r.error, r.warnings from jsonb_to_recordset($3::jsonb) as r(line int, key text, doc jsonb, error jsonb, warnings jsonb)
       on conflict (run_id, line, tenant_id) do nothing`,
      [run!.id, ctx.tenantId, JSON.stringify(batch)],
    );
    await sql(ctx.em, `update kokyaku.import_runs set staged_through = $2, rows_read = $3, rows_failed = $4, updated_at = now() where tenant_id = $5 and id = $1`, [
      run!.id,
      batch.at(-1)!.line,
      progress.rowsRead,
      progress.rowsFailed,
      ctx.tenantId,
    ]);
    state.options.onProgress?.({ ...progress });
  }

  /** A dry run's batch: what ingestion would refuse or store without, reported and counted. */
  private async checkDry(state: ImportState, batch: Staged[]): Promise<void> {
    const { options, mapping } = state;
    const docs = batch.filter((s) => s.doc);
    const asInput = (doc: Record<string, unknown>) => {
      if (options.kind !== 'orders') return doc;
      const { line, ...order } = doc;
      return { ...order, lines: [line] };
    };
    const inputs = docs.map((s) => asInput(s.doc!));
    const left = this.leaveOutOptional(options.kind, inputs, await this.sinks.validate(state.ctx, options.kind, inputs));
    for (const [index, dropped] of left.warnings) {
      const staged = docs[index]!;
      staged.warnings = [...(staged.warnings ?? []), ...dropped.map((w) => this.problem(staged.line, options.kind, mapping!, w, true))];
    }
    for (const e of left.errors) {
      const staged = docs[e.index]!;
      if (staged.error) continue;
      staged.error = this.problem(staged.line, options.kind, mapping!, e, false);
      state.progress.rowsFailed++;
    }
    for (const staged of batch) {
      for (const p of staged.error ? [staged.error] : (staged.warnings ?? [])) if (state.problems.length < KEEP_PROBLEMS) state.problems.push(p);
    }
    state.rowsValid += batch.filter((s) => s.doc && !s.error).length;
    state.rowsWarned += batch.filter((s) => s.doc && !s.error && s.warnings?.length).length;
  }

  /** After applying: the counts and problems, the error report, the staged rows gone, the run DONE. */
  private async finish(state: ImportState, started: number): Promise<ImportResult> {
    const { ctx, options, run } = state;
    const counts = await sqlOne<{ read: number; failed: number; valid: number; warned: number }>(
      ctx.em,
      `select r.rows_read as read, (select count(*)::int from kokyaku.import_rows where tenant_id = $2 and run_id = r.id and error is not null) as failed,
              (select count(*)::int from kokyaku.import_rows where tenant_id = $2 and run_id = r.id and error is null) as valid,
              (select count(*)::int from kokyaku.import_rows where tenant_id = $2 and run_id = r.id and error is null and warnings is not null) as warned
       from kokyaku.import_runs r where r.tenant_id = $2 and r.id = $1`,
      [run!.id, ctx.tenantId],
    );
    const allProblems = (
      await sql<{ line: number; error: ImportProblem | null; warnings: ImportProblem[] | null }>(
        ctx.em,
        `select line, error, warnings from kokyaku.import_rows where tenant_id = $2 and run_id = $1 and (error is not null or warnings is not null) order by line`,
        [run!.id, ctx.tenantId],
      )
    ).flatMap((p) => (p.error ? [{ ...p.error, line: p.line }] : (p.warnings ?? []).map((w) => ({ ...w, line: p.line, stored: true }))));
    if (options.errorReport) await writeErrorReport(options.errorReport, allProblems);
    // The staged documents hold personal data: once applied they go; the run keeps its counts.
    await sql(ctx.em, `delete from kokyaku.import_rows where tenant_id = $2 and run_id = $1`, [run!.id, ctx.tenantId]);
    await sql(
      ctx.em,
      `update kokyaku.import_runs set status = 'DONE', rows_failed = $2, rows_applied = $3, finished_at = coalesce(finished_at, now()), updated_at = now() where tenant_id = $4 and id = $1`,
      [run!.id, counts!.failed, counts!.valid, ctx.tenantId],
    );
    // A bulk load leaves the planner's statistics behind: refresh them for the tables it filled.
    const system = bindTenant(ctx.em.fork(), SYSTEM);
    await sql(system, `analyze ${ANALYZE[options.kind].map((t) => `kokyaku.${t}`).join(', ')}`).catch(() => undefined);
    const result: ImportResult = {
      ...state.progress,
      phase: 'DONE',
      rowsRead: counts!.read,
      rowsFailed: counts!.failed,
      rowsApplied: counts!.valid,
      encoding: state.encoding,
      mapping: state.mapping!,
      rowsValid: counts!.valid,
      rowsWarned: counts!.warned,
      problems: allProblems.slice(0, KEEP_PROBLEMS),
      resumed: run!.resumed,
      seconds: (performance.now() - started) / 1000,
    };
    options.onProgress?.(result);
    return result;
  }

  /** The runs of the context's tenant, newest first: progress of imports under way and done. */
  async runs(ctx: KokyakuContext, options: { first?: number } = {}): Promise<ImportRun[]> {
    const rows = await sql<{
      id: string;
      kind: ImportKind;
      file_name: string;
      status: ImportRun['status'];
      rows_read: number;
      rows_failed: number;
      rows_applied: number;
      started_at: Date | string;
      updated_at: Date | string;
      finished_at: Date | string | null;
    }>(
      ctx.em,
      `select id::text as id, kind, file_name, status, rows_read, rows_failed, rows_applied, started_at, updated_at, finished_at from kokyaku.import_runs where tenant_id = $1 order by import_runs.id desc limit $2`,
      [ctx.tenantId, Math.min(Math.max(options.first ?? 20, 1), 100)],
    );
    return rows.map((r) => ({
      id: r.id,
      kind: r.kind,
      fileName: r.file_name,
      status: r.status,
      rowsRead: r.rows_read,
      rowsFailed: r.rows_failed,
      rowsApplied: r.rows_applied,
      startedAt: asDate(r.started_at),
      updatedAt: asDate(r.updated_at),
      finishedAt: asDate(r.finished_at),
    }));
  }

  private async openRun(ctx: KokyakuContext, kind: ImportKind, fileName: string, hash: string, settings: Record<string, unknown>) {
    const existing = await sqlOne<{ id: string; status: ImportRun['status']; staged_through: number }>(
      ctx.em,
      `select id::text as id, status, staged_through from kokyaku.import_runs where tenant_id = $1 and kind = $2 and file_hash = $3 and settings = $4::jsonb`,
      [ctx.tenantId, kind, hash, JSON.stringify(settings)],
    );
    if (existing && existing.status !== 'DONE') return { ...existing, resumed: true };
    if (existing) {
      // The same file again: run it again (ingestion is idempotent, so it changes nothing).
      await sql(
        ctx.em,
        `update kokyaku.import_runs set status = 'STAGING', staged_through = 0, applied_key = null, rows_read = 0, rows_failed = 0, rows_applied = 0, finished_at = null, updated_at = now() where tenant_id = $2 and id = $1`,
        [existing.id, ctx.tenantId],
      );
      return { id: existing.id, status: 'STAGING' as const, staged_through: 0, resumed: false };
    }
    const created = await sqlOne<{ id: string }>(
      ctx.em,
      `insert into kokyaku.import_runs (tenant_id, kind, file_name, file_hash, settings) values ($1, $2, $3, $4, $5::jsonb)
       on conflict (tenant_id, kind, file_hash, settings) do update set updated_at = now() returning id::text as id`,
      [ctx.tenantId, kind, fileName, hash, JSON.stringify(settings)],
    );
    return { id: created!.id, status: 'STAGING' as const, staged_through: 0, resumed: false };
  }

  private async mappingOf(
    options: ImportOptions,
    settings: { mapping: Record<string, string>; orderKey: string[]; encoding: ImportEncoding; delimiter: string },
  ): Promise<ColumnMapping> {
    const source = createReadStream(options.file);
    const decoded = decode(source, settings.encoding);
    const parser = decoded.pipe(parse({ bom: true, to_line: 1, delimiter: settings.delimiter }));
    for await (const header of parser) {
      source.destroy();
      return resolveMapping(
        options.kind,
        (header as string[]).map((h) => h.trim()),
        settings.mapping,
        { optional: settings.orderKey.length ? ['orderId'] : [] },
      );
    }
    throw KokyakuError.badInput(`${options.file} is empty: no header row.`, { field: 'file' });
  }

  /** Hands the staged rows to ingestion in batches, from where a previous run stopped. */
  private async apply(
    ctx: KokyakuContext,
    runId: string,
    kind: ImportKind,
    batchSize: number,
    mapping: ColumnMapping,
    progress: ImportProgress,
    onProgress: ImportOptions['onProgress'],
    pace: Pacer,
  ): Promise<void> {
    const state = await sqlOne<{ applied_key: string | null }>(ctx.em, `select applied_key from kokyaku.import_runs where tenant_id = $2 and id = $1`, [runId, ctx.tenantId]);
    let after = state?.applied_key ?? '';
    for (;;) {
      await pace.rest();
      // Orders: every line of the next orders (their rows may lie anywhere in the file).
      const rows = await sql<{ line: number; key: string; doc: Record<string, unknown> }>(
        ctx.em,
        kind === 'orders'
          ? `select line, key, doc from kokyaku.import_rows
             where tenant_id = $4 and run_id = $1 and error is null and key in (
               select distinct key from kokyaku.import_rows where tenant_id = $4 and run_id = $1 and error is null and key > $2 order by key limit $3)
             order by key, line`
          : `select line, key, doc from kokyaku.import_rows where tenant_id = $4 and run_id = $1 and error is null and key > $2 order by key limit $3`,
        [runId, after, batchSize, ctx.tenantId],
      );
      if (rows.length === 0) break;
      const refused = new Map<number, ImportProblem>();
      const docs = kind === 'orders' ? assembleOrders(rows, mapping, refused) : rows.map((r) => ({ doc: r.doc, lines: [r.line] }));
      // Optional values ingestion would refuse (a phone that is no phone) are left out first.
      const warned = new Map<number, ImportProblem[]>();
      if (OPTIONAL_FIELDS[kind].size > 0) {
        const inputs = docs.map((d) => d.doc);
        const left = this.leaveOutOptional(kind, inputs, await this.sinks.validate(ctx, kind, inputs));
        for (const [index, dropped] of left.warnings)
          warned.set(
            docs[index]!.lines[0]!,
            dropped.map((w) => this.problem(docs[index]!.lines[0]!, kind, mapping, w, true)),
          );
      }
      const result = await this.sinks[kind](
        ctx,
        docs.map((d) => d.doc),
      );
      for (const e of result.errors) {
        const lines = docs[e.index]!.lines;
        // An order's line errors name the line itself; the order's other lines were not stored either.
        const lineIndex = /^lines\[(\d+)\]/.exec(e.field)?.[1];
        const line = lineIndex !== undefined ? (lines[Number(lineIndex)] ?? lines[0]!) : lines[0]!;
        const column = mapping.headers[columnField(kind, e.field)] ?? e.field;
        refused.set(line, { line, column, reason: e.message });
        for (const other of lines) {
          if (!refused.has(other)) refused.set(other, { line: other, column: null, reason: `not stored: line ${line} of the same order was refused` });
        }
      }
      if (refused.size > 0) {
        await sql(
          ctx.em,
          `update kokyaku.import_rows r set error = e.error from jsonb_to_recordset($2::jsonb) as e(line int, error jsonb) where r.tenant_id = $3 and r.run_id = $1 and r.line = e.line`,
          [runId, JSON.stringify([...refused.values()].map((p) => ({ line: p.line, error: p }))), ctx.tenantId],
        );
      }
      const stored = [...warned].filter(([line]) => !refused.has(line));
      if (stored.length > 0) {
        await sql(
          ctx.em,
          `update kokyaku.import_rows r set warnings = coalesce(r.warnings, '[]'::jsonb) || e.warnings
           from jsonb_to_recordset($2::jsonb) as e(line int, warnings jsonb) where r.tenant_id = $3 and r.run_id = $1 and r.line = e.line`,
          [runId, JSON.stringify(stored.map(([line, warnings]) => ({ line, warnings }))), ctx.tenantId],
        );
      }
      after = rows.at(-1)!.key;
      await sql(ctx.em, `update kokyaku.import_runs set applied_key = $2, rows_applied = rows_applied + $3, updated_at = now() where tenant_id = $4 and id = $1`, [
        runId,
        after,
        rows.length - refused.size,
        ctx.tenantId,
      ]);
      progress.rowsApplied += rows.length - refused.size;
      onProgress?.({ ...progress, phase: 'APPLYING' });
    }
  }

  /**
   * Splits ingestion's errors for `docs` into warnings, whose optional values are taken out of
   * the documents (in place), and the errors that still refuse their item.
   */
  private leaveOutOptional(
    kind: ImportKind,
    docs: Record<string, unknown>[],
    errors: BatchResult['errors'],
  ): { warnings: Map<number, { field: string; message: string; value?: string }[]>; errors: BatchResult['errors'] } {
    const optional = OPTIONAL_FIELDS[kind];
    const hard = new Set(errors.filter((e) => !optional.has(e.field.split(/[.[]/)[0]!)).map((e) => e.index));
    const warnings = new Map<number, { field: string; message: string; value?: string }[]>();
    const remaining: BatchResult['errors'] = [];
    for (const e of errors) {
      if (hard.has(e.index)) {
        if (!optional.has(e.field.split(/[.[]/)[0]!)) remaining.push(e);
        continue;
      }
      const doc = docs[e.index]!;
      const [top, sub] = e.field.split(/\.(.*)/s) as [string, string | undefined];
      let value: unknown;
      const nested = doc[top];
      if (sub && typeof nested === 'object' && nested !== null && !Array.isArray(nested) && sub in nested) {
        value = (nested as Record<string, unknown>)[sub];
        delete (nested as Record<string, unknown>)[sub];
      } else {
        value = doc[top];
        delete doc[top];
      }
      warnings.set(e.index, [
        ...(warnings.get(e.index) ?? []),
        { field: e.field, message: e.message, ...(value === undefined ? {} : { value: typeof value === 'string' ? value : JSON.stringify(value) }) },
      ]);
    }
    return { warnings, errors: remaining };
  }

  private problem(line: number, kind: ImportKind, mapping: ColumnMapping, e: { field: string; message: string; value?: string }, stored: boolean): ImportProblem {
    return {
      line,
      column: mapping.headers[columnField(kind, e.field)] ?? e.field,
      reason: stored ? `${e.message} (stored without it)` : e.message,
      ...(e.value === undefined ? {} : { value: e.value }),
      ...(stored ? { stored: true } : {}),
    };
  }

  /** Turns one CSV row into the document ingestion takes, or the reason it cannot. */
  private stage(line: number, cells: string[], headers: string[], mapping: ColumnMapping, convert: Converter, encoding: ImportEncoding): Staged {
    if (cells.length !== headers.length) {
      return { line, key: '', doc: null, error: { line, column: null, reason: `has ${cells.length} columns; the header has ${headers.length}` }, warnings: null };
    }
    let current = '';
    // A cell PostgreSQL cannot store (a NUL byte, a lone surrogate) is a bad cell like any other.
    const storable = (value: string) => {
      const problem = textProblem(value);
      if (problem) throw new CellError(problem.replace(/^Must/, 'must').replace(/\.$/, ''));
      // A UTF-8 file's bytes that are no character are decoded as U+FFFD: never stored as if read.
      if (encoding === 'utf-8' && value.includes('\uFFFD')) throw new CellError('holds bytes that are not UTF-8 (saved in another encoding? use --encoding)');
      return value;
    };
    const cell = (field: string) => {
      const index = mapping.columns[field];
      current = field;
      if (index === undefined) return undefined;
      const value = cells[index]!.trim();
      return value === '' ? undefined : storable(value);
    };
    const raw = (header: string) => {
      current = header;
      const index = headers.indexOf(header);
      return index < 0 ? undefined : storable(cells[index]!.trim());
    };
    const warnings: ImportProblem[] = [];
    const problemAt = (field: string, reason: string): ImportProblem => {
      const index = mapping.columns[field] ?? headers.indexOf(field);
      const value = index >= 0 ? cells[index] : undefined;
      // The value goes into the run's staging table (jsonb) and the report: shown without what cannot be stored.
      return { line, column: mapping.headers[field] ?? field, reason, value: value === undefined ? undefined : storableForm(value) };
    };
    const warn = (field: string, reason: string) => warnings.push({ ...problemAt(field, `${reason} (stored without it)`), stored: true });
    try {
      const converted = convert(cell, raw, Object.keys(mapping.columns), warn);
      const doc = converted.doc;
      // Rows of one kind apply in file order; order lines group by order.
      const key = converted.key ?? String(line).padStart(10, '0');
      return { line, key, doc, error: null, warnings: warnings.length ? warnings : null };
    } catch (error) {
      if (!(error instanceof CellError)) throw error;
      return { line, key: '', doc: null, error: problemAt(current, error.message), warnings: null };
    }
  }

  private converter(kind: ImportKind, timeZone: string, orderKey: string[]): Converter {
    switch (kind) {
      case 'customers':
        return customerConverter(timeZone);
      case 'products':
        return productConverter();
      case 'orders':
        return orderConverter(timeZone, orderKey);
      case 'events':
        return eventConverter(timeZone);
    }
  }
}

const required = (value: string | undefined, what: string) => {
  if (value === undefined) throw new CellError(`is empty; ${what} is required`);
  return value;
};

const opt = <T>(value: string | undefined, read: (v: string) => T) => (value === undefined ? undefined : read(value));

/** A customer row; an optional cell that cannot be read is left out with a warning, and the row is stored. */
function customerConverter(timeZone: string): Converter {
  return (cell, _raw, fields, warn) => {
    // An optional cell that cannot be read is left out with a warning; the row is stored.
    const soft = <T>(field: string, read: (v: string) => T): T | undefined => {
      try {
        const value = cell(field);
        return value === undefined ? undefined : read(value);
      } catch (error) {
        if (!(error instanceof CellError)) throw error;
        warn(field, error.message);
        return undefined;
      }
    };
    const externalId = required(cell('externalId'), 'the customer id');
    const full = soft('fullName', splitName);
    // Readings in half-width katakana (ﾔﾏﾀﾞ) are stored full-width (ヤマダ).
    const kana = (v: string | undefined) => v?.normalize('NFKC');
    const fullKana = soft('fullNameKana', (v) => splitName(kana(v)!));
    const customFields: Record<string, unknown> = {};
    const postal = soft('postalCode', readPostalCode);
    if (postal) customFields.postal_code = postal;
    const address = soft('address', (v) => v);
    if (address) customFields.address = address;
    for (const field of fields) {
      if (!field.startsWith('customFields.')) continue;
      const value = soft(field, (v) => v);
      if (value !== undefined) customFields[field.slice('customFields.'.length)] = value;
    }
    const text = (field: string) => soft(field, (v) => v);
    const doc: Record<string, unknown> = {
      externalId,
      email: text('email'),
      phone: text('phone'),
      lastName: text('lastName') ?? full?.last,
      firstName: text('firstName') ?? full?.first ?? undefined,
      lastNameKana: kana(text('lastNameKana')) ?? fullKana?.last,
      firstNameKana: kana(text('firstNameKana')) ?? fullKana?.first ?? undefined,
      birthday: soft('birthday', readDate),
      region: text('region'),
      city: text('city'),
      country: text('country'),
      tags: soft('tags', readList),
      emailConsent: soft('emailConsent', readBoolean),
      createdAt: soft('createdAt', (v) => readInstant(v, timeZone).toISOString()),
      ...(Object.keys(customFields).length ? { customFields } : {}),
    };
    return { doc: prune(doc) };
  };
}

function productConverter(): Converter {
  return (cell) => {
    const doc = prune({
      externalId: required(cell('externalId'), 'the product id'),
      name: required(cell('name'), 'the product name'),
      price: opt(cell('price'), readAmount),
      categories: opt(cell('categories'), readList),
      tags: opt(cell('tags'), readList),
      inStock: opt(cell('inStock'), (v) => (/^\d+$/.test(v.normalize('NFKC')) ? Number(v.normalize('NFKC')) > 0 : readBoolean(v))),
    });
    return { doc };
  };
}

function orderConverter(timeZone: string, orderKey: string[]): Converter {
  return (cell, raw) => {
    const customerExternalId = required(cell('customerId'), 'the customer id');
    // Each cell is read where it is converted: a bad date names the date's column.
    const placedAt = readInstant(required(cell('placedAt'), 'the order date'), timeZone).toISOString();
    const externalId = orderKey.length ? orderKey.map((h) => required(raw(h), h)).join('|') : required(cell('orderId'), 'the order id');
    const status = opt(cell('status'), (v) => {
      const s = v.normalize('NFKC').trim().toUpperCase();
      if (['CANCELLED', 'CANCELED', 'キャンセル', '取消', 'VOID'].includes(s)) return 'CANCELLED';
      if (['PLACED', 'PAID', 'COMPLETED', 'SHIPPED', 'FULFILLED', '完了', '発送済み', '支払済み', '受注'].includes(s)) return 'PLACED';
      throw new CellError('is not an order status (PLACED or CANCELLED)');
    });
    const line = prune({
      productExternalId: required(cell('productId'), 'the product id'),
      quantity: opt(cell('quantity'), readQuantity) ?? 1,
      unitPrice: readAmount(required(cell('unitPrice'), 'the unit price')),
    });
    const doc: Record<string, unknown> = prune({ externalId, customerExternalId, placedAt, status, currency: cell('currency'), line });
    return { key: externalId, doc };
  };
}

function eventConverter(timeZone: string): Converter {
  return (cell) => {
    const doc = prune({
      eventId: required(cell('eventId'), 'the event id'),
      type: required(cell('type'), 'the event type'),
      customerExternalId: cell('customerId'),
      productExternalId: cell('productId'),
      occurredAt: readInstant(required(cell('occurredAt'), 'the time'), timeZone).toISOString(),
    });
    return { doc };
  };
}

/** Turns a row's cells (by field, or by header) into the document ingestion takes; throws CellError. */
type Converter = (
  cell: (field: string) => string | undefined,
  raw: (header: string) => string | undefined,
  fields: readonly string[],
  warn: (field: string, reason: string) => void,
) => { key?: string; doc: Record<string, unknown> };

/** The column of an ingestion error's field path (orders name their lines' fields). */
function columnField(kind: ImportKind, field: string): string {
  if (kind === 'customers' && (/^(firstName|lastName)$/.test(field) || field.startsWith('customFields.'))) return field;
  if (kind !== 'orders') return field.split(/[.[]/)[0]!;
  const sub = /^lines\[\d+\]\.(\w+)/.exec(field)?.[1];
  const names: Record<string, string> = {
    productExternalId: 'productId',
    quantity: 'quantity',
    unitPrice: 'unitPrice',
    externalId: 'orderId',
    customerExternalId: 'customerId',
    placedAt: 'placedAt',
  };
  return names[sub ?? field.split(/[.[]/)[0]!] ?? field;
}

function prune<T extends Record<string, unknown>>(doc: T): T {
  for (const key of Object.keys(doc)) if (doc[key] === undefined) delete doc[key];
  return doc;
}

/**
 * Orders from their staged lines (rows sorted by order key, then line). A line naming another
 * customer or date than its order's first line is added to `refused`.
 */
function assembleOrders(
  rows: { line: number; key: string; doc: Record<string, unknown> }[],
  mapping: ColumnMapping,
  refused: Map<number, ImportProblem>,
): { doc: Record<string, unknown>; lines: number[] }[] {
  const out: { doc: Record<string, unknown>; lines: number[] }[] = [];
  for (const row of rows) {
    const last = out.at(-1);
    const { line, ...order } = row.doc as { line: Record<string, unknown> } & Record<string, unknown>;
    if (last && last.doc.externalId === row.key) {
      const which = last.doc.customerExternalId !== order.customerExternalId ? 'customerId' : last.doc.placedAt !== order.placedAt ? 'placedAt' : null;
      if (which) {
        const column = mapping.headers[which] ?? which;
        refused.set(row.line, {
          line: row.line,
          column,
          reason: `order ${row.key} already appeared on line ${last.lines[0]} with another ${which === 'customerId' ? 'customer' : 'date'}`,
        });
        continue;
      }
      (last.doc.lines as unknown[]).push(line);
      last.lines.push(row.line);
    } else {
      out.push({ doc: { ...order, lines: [line] }, lines: [row.line] });
    }
  }
  return out;
}

/** Text with every CR LF and lone CR turned into LF (a CR at the end of a chunk waits for the next). */
function lineFeeds(): Transform {
  const decoder = new StringDecoder('utf8');
  let carry = '';
  const convert = (text: string, last: boolean) => {
    let all = carry + text;
    carry = '';
    if (!last && all.endsWith('\r')) {
      carry = '\r';
      all = all.slice(0, -1);
    }
    return all.replace(/\r\n?/g, '\n');
  };
  return new Transform({
    decodeStrings: false,
    transform(chunk: Buffer | string, _enc, done) {
      done(null, convert(typeof chunk === 'string' ? chunk : decoder.write(chunk), false));
    },
    flush(done) {
      done(null, convert(decoder.end(), true));
    },
  });
}

async function writeErrorReport(file: string, problems: ImportProblem[]): Promise<void> {
  const lines = [
    'line,column,reason,value,outcome',
    ...problems.map((p) => [p.line, p.column ?? '', p.reason, p.value ?? '', p.stored ? 'stored without this value' : 'row refused'].map(csvCell).join(',')),
  ];
  await writeFile(file, `\uFEFF${lines.join('\r\n')}\r\n`, 'utf8');
}

/**
 * Keeps an import to a share of the time: `rest()` before each batch waits for what the work
 * since the previous `rest()` took times (1 / share - 1).
 */
class Pacer {
  private since = performance.now();

  constructor(private readonly share: number) {
    if (!(share > 0 && share <= 1)) throw KokyakuError.badInput(`share must be more than 0 and at most 1 (not ${share}).`, { field: 'share' });
  }

  async rest(): Promise<void> {
    if (this.share < 1) {
      const worked = performance.now() - this.since;
      await new Promise((resolve) => setTimeout(resolve, worked * (1 / this.share - 1)));
    }
    this.since = performance.now();
  }
}
