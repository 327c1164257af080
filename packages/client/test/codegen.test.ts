import { readFile } from 'node:fs/promises';
import { generate } from '@graphql-codegen/cli';
import { expect, it } from 'vitest';
import config from '../codegen.js';

it('the generated client is what codegen makes from schema.graphql (run `pnpm codegen` after changing the API)', async () => {
  const outputs = await generate({ ...config, silent: true }, false);
  expect(outputs.length).toBe(3);
  for (const output of outputs) {
    expect(output.content, output.filename).toBe(await readFile(output.filename, 'utf8'));
  }
}, 60_000);
