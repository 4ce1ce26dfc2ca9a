/**
 * Writes the configuration table of `auth()` from OPTION_SPECS (the schema
 * the validator uses) between the markers `<!-- options:start -->` and
 * `<!-- options:end -->` of a Markdown file, so the table is never edited by
 * hand and cannot drift from the code.
 *
 *   npm run docs:options                      # docs/configuration.md
 *   npm run docs:options -- path/to/file.md   # another file
 *   npm run docs:options -- --check           # fails when the table is not current
 *
 * Reads the built schema (dist/), which `npm run docs:options` builds first.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

export const START = '<!-- options:start -->';
export const END = '<!-- options:end -->';

const cell = (text) => String(text).replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** The Markdown table of the options, one row per spec, in schema order. */
export function renderOptionsTable(specs) {
  const rows = specs.map((spec) =>
    [`\`${spec.path}\``, spec.env === undefined ? '—' : `\`${spec.env}\``, spec.defaultText, spec.unit ?? '—', spec.describe].map(cell),
  );
  return ['| Option | Env var | Default | Unit | Meaning |', '| --- | --- | --- | --- | --- |', ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

/** `markdown` with the text between the markers replaced by `table`; throws when the markers are missing. */
export function replaceBetweenMarkers(markdown, table, name = 'the file') {
  const start = markdown.indexOf(START);
  const end = markdown.indexOf(END);
  if (start < 0 || end < start) throw new Error(`${name} has no ${START} ... ${END} markers to write the options table between`);
  return `${markdown.slice(0, start + START.length)}\n${table}\n${markdown.slice(end)}`;
}

async function main(args) {
  const check = args.includes('--check');
  const file = args.find((arg) => !arg.startsWith('--')) ?? 'docs/configuration.md';
  const { OPTION_SPECS } = await import(new URL('../dist/config/schema.js', import.meta.url).href);
  const before = readFileSync(file, 'utf8');
  const after = replaceBetweenMarkers(before, renderOptionsTable(OPTION_SPECS), file);
  if (check) {
    if (before !== after) {
      console.error(`${file}: the options table is not current; run npm run docs:options`);
      process.exit(1);
    }
    console.log(`${file}: the options table is current`);
  } else if (before !== after) {
    writeFileSync(file, after);
    console.log(`${file}: options table written (${OPTION_SPECS.length} options)`);
  } else {
    console.log(`${file}: the options table was already current`);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main(process.argv.slice(2)).catch((err) => {
    console.error(err.message);
    process.exit(1);
  });
}
