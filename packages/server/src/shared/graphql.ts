import { registerEnumType } from 'type-graphql';

/** A GraphQL enum from a list of values (each value its own name), registered with type-graphql. */
export function enumOf<const V extends readonly string[]>(name: string, values: V, description: string): { [K in V[number]]: K } {
  const e = Object.fromEntries(values.map((v) => [v, v])) as { [K in V[number]]: K };
  registerEnumType(e, { name, description });
  return e;
}

/** The value type of an enum object made by `enumOf`. */
export type E<T> = T[keyof T];

/** GraphQL input objects as plain objects (fields left out stay absent). */
export const plain = <T extends object>(input: T): T => Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)) as T;
