/** A place in the query text. Lines and columns start at 1. */
export interface Position {
  offset: number;
  line: number;
  column: number;
}

export type ComparisonOperator = '=' | '!=' | '>' | '>=' | '<' | '<=';

export type Value =
  | { kind: 'string'; value: string; pos: Position }
  | { kind: 'number'; value: number; pos: Position }
  | { kind: 'boolean'; value: boolean; pos: Position }
  /** YYYY-MM-DD */
  | { kind: 'date'; value: string; pos: Position }
  /** -30d, +2w, -3m, -1y; `today` and `yesterday` are amount 0 and -1 in days. */
  | { kind: 'relative'; amount: number; unit: 'd' | 'w' | 'm' | 'y'; text: string; pos: Position }
  /** A bare name such as AT_RISK or SUBSCRIBED. */
  | { kind: 'name'; value: string; pos: Position };

export type Subject =
  | { kind: 'attribute'; name: string; pos: Position }
  | { kind: 'custom'; field: string; pos: Position }
  | { kind: 'call'; fn: string; arg: string; pos: Position; argPos: Position };

/** One argument of a MATCHES function: `date > -30d`, `count >= 2`, `date BETWEEN a AND b`. */
export interface MatchArgument {
  name: string;
  pos: Position;
  op: ComparisonOperator | 'BETWEEN';
  value: Value;
  /** Upper bound of BETWEEN. */
  high?: Value;
}

export type Expr =
  | { kind: 'and' | 'or'; left: Expr; right: Expr; pos: Position }
  | { kind: 'not'; expr: Expr; pos: Position }
  | { kind: 'compare'; subject: Subject; op: ComparisonOperator; value: Value; pos: Position; opPos: Position }
  | { kind: 'between'; subject: Subject; negated: boolean; low: Value; high: Value; pos: Position; opPos: Position }
  | { kind: 'contains'; subject: Subject; negated: boolean; value: Value; pos: Position; opPos: Position }
  | { kind: 'null'; subject: Subject; negated: boolean; pos: Position; opPos: Position }
  | { kind: 'matches'; fn: string; negated: boolean; args: MatchArgument[]; pos: Position };
