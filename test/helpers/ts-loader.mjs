// Lets a child process run the TypeScript sources as the tests do (swc, no typecheck):
// node --import ./test/helpers/ts-loader.mjs test/helpers/instance-process.ts
import { register } from 'node:module';

register('./ts-loader-hooks.mjs', import.meta.url);
