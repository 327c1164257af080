import type { ComparisonOperator, Expr, MatchArgument, Position, Subject, Value } from './ast.js';
import { SegmentQueryError, suggest } from './errors.js';
import { type Token, tokenize } from './lexer.js';
import { findUnstorable } from '../shared/validation.js';

const KEYWORDS = ['AND', 'OR', 'NOT', 'BETWEEN', 'CONTAINS', 'IS', 'NULL', 'MATCHES', 'TRUE', 'FALSE'] as const;
const CONDITION_OPERATORS = ['=', '!=', '>', '>=', '<', '<=', 'BETWEEN', 'CONTAINS', 'NOT CONTAINS', 'IS NULL', 'IS NOT NULL', 'MATCHES', 'NOT MATCHES'];
const MAX_DEPTH = 64;

function describe(token: Token): string {
  switch (token.type) {
    case 'eof':
      return 'the end of the query';
    case 'string':
      return `the string '${token.text}'`;
    case 'ident':
      return `"${token.text}"`;
    default:
      return `"${token.text}"`;
  }
}

/**
 * Recursive-descent parser of the segment language. AND binds tighter than OR; NOT binds
 * tightest; keywords are case-insensitive.
 *
 *   query     := or EOF
 *   or        := and (OR and)*
 *   and       := not (AND not)*
 *   not       := NOT not | '(' or ')' | condition
 *   condition := subject ( op value | [NOT] BETWEEN value AND value | [NOT] CONTAINS value
 *                        | IS [NOT] NULL | [NOT] MATCHES '(' [arg (',' arg)*] ')' )
 *   subject   := name | custom '.' (name | string) | name '(' name ')'
 *   arg       := name ( op value | BETWEEN value AND value )
 */
export class Parser {
  private readonly tokens: Token[];
  private index = 0;
  private depth = 0;

  constructor(source: string) {
    this.tokens = tokenize(source);
  }

  parse(): Expr {
    if (this.peek().type === 'eof') {
      throw new SegmentQueryError('The query is empty', this.peek().pos, { expected: ['a condition such as amount_spent >= 10000'] });
    }
    const expr = this.parseOr();
    const next = this.peek();
    if (next.type !== 'eof') {
      const hint = next.type === 'ident' ? suggest(next.text, ['AND', 'OR']) : undefined;
      throw new SegmentQueryError(`Unexpected ${describe(next)} after a complete condition`, next.pos, {
        expected: ['AND', 'OR', 'the end of the query'],
        ...(hint ? { suggestion: hint } : {}),
      });
    }
    return expr;
  }

  private peek(ahead = 0): Token {
    return this.tokens[Math.min(this.index + ahead, this.tokens.length - 1)]!;
  }

  private next(): Token {
    const token = this.peek();
    if (token.type !== 'eof') this.index++;
    return token;
  }

  private isKeyword(token: Token, keyword: (typeof KEYWORDS)[number]): boolean {
    return token.type === 'ident' && token.text.toUpperCase() === keyword;
  }

  private acceptKeyword(keyword: (typeof KEYWORDS)[number]): Token | undefined {
    return this.isKeyword(this.peek(), keyword) ? this.next() : undefined;
  }

  private expectKeyword(keyword: (typeof KEYWORDS)[number], context: string): Token {
    const token = this.peek();
    if (this.isKeyword(token, keyword)) return this.next();
    throw new SegmentQueryError(`Expected ${keyword} ${context}, found ${describe(token)}`, token.pos, { expected: [keyword] });
  }

  private expect(type: Token['type'], what: string): Token {
    const token = this.peek();
    if (token.type === type) return this.next();
    throw new SegmentQueryError(`Expected ${what}, found ${describe(token)}`, token.pos, { expected: [what] });
  }

  private enter(pos: Position): void {
    if (++this.depth > MAX_DEPTH) throw new SegmentQueryError(`The query nests deeper than ${MAX_DEPTH} levels`, pos);
  }

  private parseOr(): Expr {
    let left = this.parseAnd();
    for (let op = this.acceptKeyword('OR'); op; op = this.acceptKeyword('OR')) {
      left = { kind: 'or', left, right: this.parseAnd(), pos: op.pos };
    }
    return left;
  }

  private parseAnd(): Expr {
    let left = this.parseNot();
    for (let op = this.acceptKeyword('AND'); op; op = this.acceptKeyword('AND')) {
      left = { kind: 'and', left, right: this.parseNot(), pos: op.pos };
    }
    return left;
  }

  private parseNot(): Expr {
    const token = this.peek();
    this.enter(token.pos);
    try {
      if (this.acceptKeyword('NOT')) return { kind: 'not', expr: this.parseNot(), pos: token.pos };
      if (token.type === '(') {
        this.next();
        const inner = this.parseOr();
        this.expect(')', '")" to close the "(" at line ' + token.pos.line + ', column ' + token.pos.column);
        return inner;
      }
      return this.parseCondition();
    } finally {
      this.depth--;
    }
  }

  private parseSubject(): Subject {
    const token = this.peek();
    if (token.type !== 'ident' || (KEYWORDS as readonly string[]).includes(token.text.toUpperCase())) {
      throw new SegmentQueryError(`Expected an attribute or function such as amount_spent, found ${describe(token)}`, token.pos, {
        expected: ['an attribute', 'a function'],
      });
    }
    this.next();
    const name = token.text.toLowerCase();
    if (this.peek().type === '.') {
      const dot = this.next();
      if (name !== 'custom') {
        throw new SegmentQueryError(`Only custom fields have a dotted name (custom.<field>); "${token.text}" has none`, dot.pos, {
          suggestion: 'custom.' + (this.peek().text || 'field'),
        });
      }
      const field = this.peek();
      if (field.type !== 'ident' && field.type !== 'string') {
        throw new SegmentQueryError(`Expected a custom field name after "custom.", found ${describe(field)}`, field.pos, { expected: ['a field name'] });
      }
      this.next();
      return { kind: 'custom', field: field.text, pos: token.pos };
    }
    if (this.peek().type === '(') {
      this.next();
      const arg = this.expect('ident', 'an attribute name such as birthday');
      this.expect(')', '")"');
      return { kind: 'call', fn: name, arg: arg.text.toLowerCase(), pos: token.pos, argPos: arg.pos };
    }
    return { kind: 'attribute', name, pos: token.pos };
  }

  private parseCondition(): Expr {
    const subject = this.parseSubject();
    const opToken = this.peek();
    const pos = subject.pos;

    if (opToken.type === 'op') {
      this.next();
      return { kind: 'compare', subject, op: opToken.text as ComparisonOperator, value: this.parseValue(), pos, opPos: opToken.pos };
    }
    const negated = Boolean(this.acceptKeyword('NOT'));
    const keyword = this.peek();
    if (this.acceptKeyword('BETWEEN')) {
      const low = this.parseValue();
      this.expectKeyword('AND', 'between the two bounds of BETWEEN');
      return { kind: 'between', subject, negated, low, high: this.parseValue(), pos, opPos: keyword.pos };
    }
    if (this.acceptKeyword('CONTAINS')) {
      return { kind: 'contains', subject, negated, value: this.parseValue(), pos, opPos: keyword.pos };
    }
    if (this.acceptKeyword('MATCHES')) {
      if (subject.kind !== 'attribute') {
        throw new SegmentQueryError('MATCHES follows a function name such as products_purchased', subject.pos);
      }
      return { kind: 'matches', fn: subject.name, negated, args: this.parseArguments(), pos };
    }
    if (!negated && this.acceptKeyword('IS')) {
      const not = Boolean(this.acceptKeyword('NOT'));
      this.expectKeyword('NULL', not ? 'after IS NOT' : 'after IS');
      return { kind: 'null', subject, negated: not, pos, opPos: opToken.pos };
    }
    const found = this.peek();
    const hint = found.type === 'ident' ? suggest(found.text, ['BETWEEN', 'CONTAINS', 'MATCHES', 'IS']) : undefined;
    throw new SegmentQueryError(`Expected an operator after ${subjectText(subject)}, found ${describe(found)}`, found.pos, {
      expected: negated ? ['BETWEEN', 'CONTAINS', 'MATCHES'] : CONDITION_OPERATORS,
      ...(hint ? { suggestion: hint } : {}),
    });
  }

  private parseArguments(): MatchArgument[] {
    this.expect('(', '"(" to open the MATCHES arguments');
    const args: MatchArgument[] = [];
    if (this.peek().type === ')') {
      this.next();
      return args;
    }
    for (;;) {
      const name = this.expect('ident', 'an argument such as date, count or product');
      const op = this.peek();
      if (op.type === 'op') {
        this.next();
        args.push({ name: name.text.toLowerCase(), pos: name.pos, op: op.text as ComparisonOperator, value: this.parseValue() });
      } else if (this.acceptKeyword('BETWEEN')) {
        const value = this.parseValue();
        this.expectKeyword('AND', 'between the two bounds of BETWEEN');
        args.push({ name: name.text.toLowerCase(), pos: name.pos, op: 'BETWEEN', value, high: this.parseValue() });
      } else {
        throw new SegmentQueryError(`Expected an operator after the argument ${name.text}, found ${describe(op)}`, op.pos, {
          expected: ['=', '!=', '>', '>=', '<', '<=', 'BETWEEN'],
        });
      }
      const separator = this.peek();
      if (separator.type === ',') {
        this.next();
        continue;
      }
      if (separator.type === ')') {
        this.next();
        return args;
      }
      throw new SegmentQueryError(`Expected "," or ")" in the MATCHES arguments, found ${describe(separator)}`, separator.pos, {
        expected: [',', ')'],
      });
    }
  }

  private parseValue(): Value {
    const token = this.next();
    switch (token.type) {
      case 'string':
        return { kind: 'string', value: token.text, pos: token.pos };
      case 'number': {
        const value = Number(token.text);
        if (!Number.isFinite(value)) throw new SegmentQueryError(`${token.text} is not a finite number`, token.pos);
        return { kind: 'number', value, pos: token.pos };
      }
      case 'date':
        return { kind: 'date', value: token.text, pos: token.pos };
      case 'relative': {
        const amount = Number(token.text.slice(0, -1));
        if (!Number.isSafeInteger(amount) || Math.abs(amount) > 100_000) {
          throw new SegmentQueryError(`${token.text} is too far away`, token.pos);
        }
        return { kind: 'relative', amount, unit: token.text.slice(-1) as 'd' | 'w' | 'm' | 'y', text: token.text, pos: token.pos };
      }
      case 'ident': {
        const upper = token.text.toUpperCase();
        if (upper === 'TODAY') return { kind: 'relative', amount: 0, unit: 'd', text: 'today', pos: token.pos };
        if (upper === 'YESTERDAY') return { kind: 'relative', amount: -1, unit: 'd', text: 'yesterday', pos: token.pos };
        if (upper === 'TRUE' || upper === 'FALSE') return { kind: 'boolean', value: upper === 'TRUE', pos: token.pos };
        if ((KEYWORDS as readonly string[]).includes(upper)) break;
        return { kind: 'name', value: token.text, pos: token.pos };
      }
      default:
        break;
    }
    throw new SegmentQueryError(`Expected a value (a 'string', a number, a date such as 2026-04-01 or -30d), found ${describe(token)}`, token.pos, {
      expected: ['a value'],
    });
  }
}

function subjectText(subject: Subject): string {
  if (subject.kind === 'custom') return `custom.${subject.field}`;
  if (subject.kind === 'call') return `${subject.fn}(${subject.arg})`;
  return subject.name;
}

export function parseSegmentQuery(source: string): Expr {
  // Text PostgreSQL cannot take (a NUL, a lone surrogate) is a mistake in the query, with its place.
  const bad = findUnstorable(source);
  if (bad) {
    const before = source.slice(0, bad.index);
    const line = before.split('\n').length;
    const column = bad.index - before.lastIndexOf('\n');
    throw new SegmentQueryError(bad.nul ? 'A NUL character cannot be part of a query' : 'A lone UTF-16 surrogate cannot be part of a query', { line, column, offset: bad.index });
  }
  return new Parser(source).parse();
}
