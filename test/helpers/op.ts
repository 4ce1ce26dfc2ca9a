/**
 * The test OP: a real oidc-provider in-process on 127.0.0.1, behaving like Auth0 where the library
 * cares. Its parts live in ./op/, one module per endpoint family or grant; this entry point keeps
 * every import of './op.js' working.
 */
import './quiet.js'; // must stay first: silences oidc-provider's console notices

export * from './op/index.js';
