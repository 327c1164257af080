import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';
import { JSONResolver } from 'graphql-scalars';

/**
 * ISO 8601 date-time. Output: always UTC with milliseconds. Input: a string with a time zone
 * offset. In batch inputs a malformed value is passed on as written, so that the batch reports
 * it for that item (index and field) instead of rejecting every item of the request.
 */
export const DateTimeScalar = new GraphQLScalarType<Date | string, string>({
  name: 'DateTime',
  description: 'An ISO 8601 date-time with a time zone offset, e.g. 2026-03-01T10:00:00Z.',
  serialize(value) {
    const date = value instanceof Date ? value : new Date(String(value));
    if (Number.isNaN(date.getTime())) throw new GraphQLError(`DateTime cannot represent ${String(value)}`);
    return date.toISOString();
  },
  parseValue(value) {
    if (typeof value !== 'string') throw new GraphQLError('DateTime must be a string such as 2026-03-01T10:00:00Z.');
    return value;
  },
  parseLiteral(ast) {
    if (ast.kind !== Kind.STRING) throw new GraphQLError('DateTime must be a string such as 2026-03-01T10:00:00Z.', { nodes: ast });
    return ast.value;
  },
});

export { JSONResolver as JSONScalar };
