import { writeFile } from 'node:fs/promises';
import { printKokyakuSchema } from '../schema/build.js';

const target = new URL('../../schema.graphql', import.meta.url);
await writeFile(target, await printKokyakuSchema());
process.stdout.write(`wrote ${target.pathname}\n`);
