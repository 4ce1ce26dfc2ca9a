#!/usr/bin/env node
/** Lists the mutants of a Stryker JSON report that were not killed: node scripts/mutation-survivors.mjs reports/mutation/<name>.json */
import { readFileSync } from 'node:fs';

const report = JSON.parse(readFileSync(process.argv[2], 'utf8'));
for (const [file, { mutants }] of Object.entries(report.files)) {
  for (const m of mutants) {
    if (['Killed', 'Timeout', 'CompileError', 'RuntimeError'].includes(m.status)) continue;
    console.log(`${file}:${m.location.start.line}:${m.location.start.column} ${m.status} ${m.mutatorName} ${JSON.stringify(m.replacement)}`);
  }
}
