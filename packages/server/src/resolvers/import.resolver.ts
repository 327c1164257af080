import path from 'node:path';
import { type ImportOptions, KokyakuError } from '@kokyaku/core';
import { Arg, Authorized, Ctx, ID, Int, Mutation, Query, Resolver } from 'type-graphql';
import { CONTACT_DATA } from '../auth.js';
import type { GraphQLContext } from '../context.js';
import { DuplicateGroup, DuplicateRule, ImportKind, ImportResult, ImportRun, MergePreview } from '../schema/import-types.js';
import { JSONScalar } from '../schema/scalars.js';

@Resolver()
export class ImportResolver {
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
      description: 'false: answer as soon as the header is matched (phase STAGING) and go on in the background; follow it with importRuns. A run stopped by a restart resumes when imported again.',
    })
    wait = true,
  ): Promise<ImportResult> {
    const directory = kokyaku.config.imports.directory;
    if (!directory) throw new KokyakuError('FORBIDDEN', 'Imports through the API read from a server folder: set KOKYAKU_IMPORT_DIR (or imports.directory).');
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
    description: 'Merges customers into one: orders, events and consents move to the survivor, and the others\' shop ids keep naming it.',
  })
  mergeCustomers(
    @Ctx() { kokyaku, core, requestId }: GraphQLContext,
    @Arg('survivorId', () => ID) survivorId: string,
    @Arg('otherIds', () => [ID]) otherIds: string[],
  ): Promise<MergePreview> {
    return kokyaku.identity.merge(core, survivorId, otherIds, { requestId });
  }
}
