import { randomUUID } from 'node:crypto';
import { mkdir, open, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { IMPORT_FIELDS, type ImportOptions, KokyakuError } from '@kokyaku/core';
import { Arg, Authorized, Ctx, Float, ID, Int, Mutation, Query, Resolver } from 'type-graphql';
import { CONTACT_DATA } from '../auth.js';
import type { GraphQLContext } from '../context.js';
import { DuplicateGroup, DuplicateRule, ImportField, ImportKind, ImportResult, ImportRun, ImportUpload, MergePreview } from './types.js';
import { JSONScalar } from '../shared/scalars.js';

/** Largest piece of an upload (decoded): a base64 piece of it stays well under the default body limit. */
export const UPLOAD_PIECE_BYTES = 4 * 1024 * 1024;

function importDirectory(directory: string | undefined | null): string {
  if (!directory) throw KokyakuError.forbidden('Imports through the API read from a server folder: set KOKYAKU_IMPORT_DIR (or imports.directory).');
  return directory;
}

@Resolver()
export class ImportResolver {
  @Authorized(['ADMIN'])
  @Mutation(() => ImportUpload, {
    description:
      'Sends a file to the import folder in pieces (base64, each at most 4 MB decoded), for browsers: the first piece (offset 0, no uploadId) starts an upload, each further one gives its uploadId and offset. A piece sent again after a lost answer changes nothing. Then importFile(path).',
  })
  async uploadImportFile(
    @Ctx() { kokyaku, core }: GraphQLContext,
    @Arg('name', () => String, { description: 'The file name, kept in the import history (the first piece names it).' }) name: string,
    @Arg('data', () => String, { description: 'The piece, base64.' }) data: string,
    @Arg('offset', () => Float, { defaultValue: 0 }) offset: number,
    @Arg('uploadId', () => String, { nullable: true }) uploadId?: string | null,
  ): Promise<ImportUpload> {
    const directory = importDirectory(kokyaku.config.imports.directory);
    if (!/^[A-Za-z0-9+/=\s]*$/.test(data)) throw KokyakuError.badInput('data must be base64.', { field: 'data' });
    const piece = Buffer.from(data, 'base64');
    if (piece.length > UPLOAD_PIECE_BYTES) throw KokyakuError.badInput(`A piece holds at most ${UPLOAD_PIECE_BYTES} bytes; send the file in smaller pieces.`, { field: 'data' });
    const base = path
      .basename(name)
      .replace(/[^\p{L}\p{N}._ -]/gu, '_')
      .slice(0, 120);
    if (!base || base.startsWith('.')) throw KokyakuError.badInput('name must be a file name such as customers.csv.', { field: 'name' });
    if (uploadId != null && !/^[0-9a-f-]{36}$/.test(uploadId)) throw KokyakuError.badInput('uploadId is the one the first piece answered.', { field: 'uploadId' });
    if (uploadId == null && offset !== 0) throw KokyakuError.badInput('The first piece has offset 0; later pieces give their uploadId.', { field: 'offset' });
    const id = uploadId ?? randomUUID();
    const folder = path.join(directory, 'uploads', core.tenantId, id);
    // The first piece names the file; later pieces find it in their upload's folder.
    const existing =
      uploadId == null
        ? null
        : await readdir(folder).then(
            (files) => files[0] ?? null,
            () => null,
          );
    if (uploadId != null && !existing) throw KokyakuError.notFound('Upload', id);
    const relative = path.join('uploads', core.tenantId, id, existing ?? base);
    const file = path.join(directory, relative);
    await mkdir(folder, { recursive: true });
    const size = uploadId == null ? 0 : (await stat(file)).size;
    if (offset > size) throw KokyakuError.badInput(`The upload has ${size} bytes: send the piece at offset ${size}.`, { field: 'offset', expected: size });
    if (offset + piece.length <= size) return { uploadId: id, path: relative, bytes: size };
    const handle = await open(file, uploadId == null ? 'w' : 'r+');
    try {
      await handle.write(piece, 0, piece.length, offset);
    } finally {
      await handle.close();
    }
    return { uploadId: id, path: relative, bytes: offset + piece.length };
  }

  @Authorized(['ADMIN'])
  @Mutation(() => ImportResult, {
    description:
      'Imports a CSV file from the server folder KOKYAKU_IMPORT_DIR (a path relative to it). Headers are matched in English and Japanese; `mapping` ({"field": "header"}) overrides them. Importing the same file again changes nothing; a run that stopped resumes.',
  })
  async importFile(
    @Ctx() { kokyaku, core, logger, requestId }: GraphQLContext,
    @Arg('kind', () => ImportKind) kind: ImportKind,
    @Arg('path', () => String) file: string,
    @Arg('mapping', () => JSONScalar, { nullable: true }) mapping?: Record<string, string> | null,
    @Arg('orderKey', () => [String], { nullable: true }) orderKey?: string[] | null,
    @Arg('encoding', () => String, { nullable: true, description: 'utf-8 or shift_jis (default: detected)' }) encoding?: string | null,
    @Arg('dryRun', () => Boolean, { nullable: true }) dryRun?: boolean | null,
    @Arg('wait', () => Boolean, {
      nullable: true,
      defaultValue: true,
      description:
        'false: answer as soon as the header is matched (phase STAGING) and go on in the background; follow it with importRuns. A run stopped by a restart resumes when imported again.',
    })
    wait = true,
  ): Promise<ImportResult> {
    const directory = importDirectory(kokyaku.config.imports.directory);
    const target = path.resolve(directory, file);
    if (path.relative(directory, target).startsWith('..') || path.isAbsolute(path.relative(directory, target))) {
      throw KokyakuError.badInput(`"${file}" is outside the import folder.`, { field: 'path' });
    }
    if (encoding != null && encoding !== 'utf-8' && encoding !== 'shift_jis') throw KokyakuError.badInput('encoding is utf-8 or shift_jis.', { field: 'encoding' });
    let started: ((value: Parameters<NonNullable<ImportOptions['onStart']>>[0]) => void) | undefined;
    const whenStarted = new Promise<Parameters<NonNullable<ImportOptions['onStart']>>[0]>((resolve) => (started = resolve));
    const running = kokyaku.imports.run(core, {
      kind,
      file: target,
      mapping: mapping ?? undefined,
      orderKey: orderKey ?? undefined,
      encoding: encoding ?? undefined,
      dryRun: dryRun ?? false,
      onStart: started,
    });
    if (!wait && !dryRun) {
      // Whichever comes first: the header matched (go on in the background) or a failure.
      const first = await Promise.race([whenStarted, running.then(() => null)]);
      if (first) {
        running.catch((error: unknown) => logger?.error({ err: error, runId: first.runId, requestId }, 'background import failed'));
        return {
          runId: first.runId,
          kind,
          phase: 'STAGING',
          encoding: first.encoding,
          columns: Object.entries(first.mapping.headers).map(([field, header]) => ({ field, header })),
          unusedHeaders: first.mapping.unused,
          rowsRead: 0,
          rowsValid: 0,
          rowsFailed: 0,
          rowsWarned: 0,
          problems: [],
          resumed: first.resumed,
          seconds: 0,
        } as ImportResult;
      }
    }
    const result = await running;
    return {
      ...result,
      problems: result.problems.map((p) => ({ ...p, stored: p.stored ?? false })),
      kind,
      columns: Object.entries(result.mapping.headers).map(([field, header]) => ({ field, header })),
      unusedHeaders: result.mapping.unused,
    } as ImportResult;
  }

  @Authorized(['ADMIN'])
  @Query(() => [ImportField], { description: 'The fields a file of this kind can fill (the targets of `mapping` in importFile).' })
  importFields(@Arg('kind', () => ImportKind) kind: ImportKind): ImportField[] {
    return IMPORT_FIELDS[kind].map((f) => ({ field: f.field, required: f.required ?? false, description: f.description }));
  }

  @Authorized(['ADMIN'])
  @Query(() => [ImportRun], { description: 'Imports, newest first, with their progress.' })
  importRuns(@Ctx() { kokyaku, core }: GraphQLContext, @Arg('first', () => Int, { nullable: true }) first?: number | null): Promise<ImportRun[]> {
    return kokyaku.imports.runs(core, { first: first ?? 20 }) as Promise<ImportRun[]>;
  }

  @Authorized(CONTACT_DATA)
  @Query(() => [DuplicateGroup], { description: 'Customers who may be one person: same email, phone, or name and birthday.' })
  async duplicateCustomers(
    @Ctx() { kokyaku, core, loaders }: GraphQLContext,
    @Arg('rules', () => [DuplicateRule], { nullable: true }) rules?: DuplicateRule[] | null,
    @Arg('first', () => Int, { nullable: true }) first?: number | null,
  ): Promise<DuplicateGroup[]> {
    const groups = await kokyaku.identity.duplicates(core, { rules: rules ?? undefined, first: first ?? undefined });
    return Promise.all(
      groups.map(async (g) => ({ rule: g.rule as DuplicateRule, customers: (await loaders.customer.loadMany(g.customerIds)).filter((c) => c && !(c instanceof Error)) })),
    ) as Promise<DuplicateGroup[]>;
  }

  @Authorized(['ADMIN'])
  @Query(() => MergePreview, { description: 'What merging `otherIds` into `survivorId` would do; changes nothing.' })
  mergePreview(@Ctx() { kokyaku, core }: GraphQLContext, @Arg('survivorId', () => ID) survivorId: string, @Arg('otherIds', () => [ID]) otherIds: string[]): Promise<MergePreview> {
    return kokyaku.identity.preview(core, survivorId, otherIds);
  }

  @Authorized(['ADMIN'])
  @Mutation(() => MergePreview, {
    description: "Merges customers into one: orders, events and consents move to the survivor, and the others' shop ids keep naming it.",
  })
  mergeCustomers(
    @Ctx() { kokyaku, core, requestId }: GraphQLContext,
    @Arg('survivorId', () => ID) survivorId: string,
    @Arg('otherIds', () => [ID]) otherIds: string[],
  ): Promise<MergePreview> {
    return kokyaku.identity.merge(core, survivorId, otherIds, { requestId });
  }
}
