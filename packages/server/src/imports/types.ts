import { Field, Float, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Customer } from '../customers/types.js';
import { DateTimeScalar, JSONScalar } from '../shared/scalars.js';

export enum ImportKind {
  customers = 'customers',
  products = 'products',
  orders = 'orders',
  events = 'events',
}
registerEnumType(ImportKind, { name: 'ImportKind', description: 'What a CSV file holds: a customer, product or event per row, or an order line per row.' });

export enum ImportPhase {
  STAGING = 'STAGING',
  APPLYING = 'APPLYING',
  DONE = 'DONE',
}
registerEnumType(ImportPhase, { name: 'ImportPhase', description: 'STAGING: reading and checking rows; APPLYING: storing them; DONE.' });

export enum DuplicateRule {
  EMAIL = 'EMAIL',
  PHONE = 'PHONE',
  NAME_BIRTHDAY = 'NAME_BIRTHDAY',
}
registerEnumType(DuplicateRule, { name: 'DuplicateRule', description: 'Same normalised email, same E.164 phone, or same full name and birthday.' });

@ObjectType({ description: 'Which column of the file a field was read from.' })
export class ImportColumn {
  @Field(() => String)
  field!: string;

  @Field(() => String)
  header!: string;
}

@ObjectType({ description: 'A refused row, or a value a stored row was stored without: its line in the file, the column, and why.' })
export class ImportProblem {
  @Field(() => Int)
  line!: number;

  @Field(() => String, { nullable: true })
  column!: string | null;

  @Field(() => String)
  reason!: string;

  @Field(() => Boolean, { description: 'True for a warning: the row was stored without this optional value (a phone that is no phone). False: the row was refused.' })
  stored!: boolean;
}

@ObjectType()
export class ImportResult {
  @Field(() => ID, { nullable: true, description: 'The run (null for a dry run).' })
  runId!: string | null;

  @Field(() => ImportKind)
  kind!: ImportKind;

  @Field(() => ImportPhase)
  phase!: ImportPhase;

  @Field(() => String)
  encoding!: string;

  @Field(() => [ImportColumn])
  columns!: ImportColumn[];

  @Field(() => [String])
  unusedHeaders!: string[];

  @Field(() => Int)
  rowsRead!: number;

  @Field(() => Int, { description: 'Rows stored (or, in a dry run, that would be).' })
  rowsValid!: number;

  @Field(() => Int)
  rowsFailed!: number;

  @Field(() => Int, { description: 'Of the rows stored, those stored without an optional value that could not be read (see problems).' })
  rowsWarned!: number;

  @Field(() => [ImportProblem], { description: 'The first 100 problems, refusals and warnings, by line.' })
  problems!: ImportProblem[];

  @Field(() => Boolean, { description: 'True when this run picked up a run of the same file that had stopped half-way.' })
  resumed!: boolean;

  @Field(() => Float)
  seconds!: number;
}

@ObjectType({ description: 'An import and its progress.' })
export class ImportRun {
  @Field(() => ID)
  id!: string;

  @Field(() => ImportKind)
  kind!: ImportKind;

  @Field(() => String)
  fileName!: string;

  @Field(() => ImportPhase)
  status!: ImportPhase;

  @Field(() => Int)
  rowsRead!: number;

  @Field(() => Int)
  rowsFailed!: number;

  @Field(() => Int)
  rowsApplied!: number;

  @Field(() => DateTimeScalar)
  startedAt!: Date;

  @Field(() => DateTimeScalar)
  updatedAt!: Date;

  @Field(() => DateTimeScalar, { nullable: true })
  finishedAt!: Date | null;
}

@ObjectType({ description: 'Customers who may be one person, and why.' })
export class DuplicateGroup {
  @Field(() => DuplicateRule)
  rule!: DuplicateRule;

  @Field(() => [Customer], { description: 'Oldest first: the first is the suggested survivor.' })
  customers!: Customer[];
}

@ObjectType({ description: 'What one field of the survivor becomes in a merge.' })
export class MergeField {
  @Field(() => String)
  field!: string;

  @Field(() => JSONScalar, { nullable: true })
  value!: unknown;

  @Field(() => ID, { nullable: true, description: 'The customer the value comes from.' })
  fromCustomerId!: string | null;

  @Field(() => JSONScalar, { description: 'Values of the merged customers that are dropped.' })
  dropped!: unknown[];
}

@ObjectType()
export class MergePreview {
  @Field(() => ID)
  survivorId!: string;

  @Field(() => [ID])
  mergedIds!: string[];

  @Field(() => [MergeField])
  fields!: MergeField[];

  @Field(() => [String], { description: 'Shop ids that name the survivor from now on.' })
  aliases!: string[];

  @Field(() => Int)
  ordersMoved!: number;

  @Field(() => Int)
  eventsMoved!: number;
}

@ObjectType({ description: 'A file being sent to the import folder in pieces; import it with importFile(path).' })
export class ImportUpload {
  @Field(() => String, { description: 'Give it with each further piece.' })
  uploadId!: string;

  @Field(() => String, { description: 'The path to give importFile (relative to the import folder).' })
  path!: string;

  @Field(() => Float, { description: 'Bytes received so far: the offset of the next piece.' })
  bytes!: number;
}

@ObjectType({ description: 'A field a CSV file of one kind can fill, and whether a row needs it.' })
export class ImportField {
  @Field(() => String)
  field!: string;

  @Field(() => Boolean)
  required!: boolean;

  @Field(() => String)
  description!: string;
}
