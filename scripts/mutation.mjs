#!/usr/bin/env node
/**
 * Mutation testing of the security-critical modules: runs Stryker once per module (against the
 * tests stryker.config.mjs names for it), then compares each score with mutation-thresholds.json
 * and fails when a module scores below its recorded score.
 *
 *   npm run test:mutation                                   # every module
 *   npm run test:mutation -- src/refresh/lock.ts            # some modules
 *   npm run test:mutation -- --record src/refresh/lock.ts   # store the scores measured as the new thresholds
 *   npm run test:mutation -- --compare                      # only compare the reports already in reports/mutation
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

import { MODULES } from '../stryker.config.mjs';

const THRESHOLDS = 'mutation-thresholds.json';
const args = process.argv.slice(2);
const record = args.includes('--record');
const compareOnly = args.includes('--compare');
const named = args.filter((arg) => !arg.startsWith('--'));
for (const module of named) {
  if (!(module in MODULES)) throw new Error(`${module} is not a module of stryker.config.mjs`);
}
const modules = named.length > 0 ? named : Object.keys(MODULES);
const thresholds = existsSync(THRESHOLDS) ? JSON.parse(readFileSync(THRESHOLDS, 'utf8')) : {};

const reportOf = (module) => `reports/mutation/${module.replace(/^src\//, '').replace(/\.ts$/, '').replaceAll('/', '-')}.json`;

/** Stryker's mutation score: killed and timed-out mutants among the valid ones (compile errors excluded). */
function score(module) {
  const report = JSON.parse(readFileSync(reportOf(module), 'utf8'));
  const counts = { Killed: 0, Timeout: 0, Survived: 0, NoCoverage: 0 };
  for (const { mutants } of Object.values(report.files)) {
    for (const { status } of mutants) if (status in counts) counts[status] += 1;
  }
  const detected = counts.Killed + counts.Timeout;
  const valid = detected + counts.Survived + counts.NoCoverage;
  return { ...counts, valid, score: valid === 0 ? 100 : Math.floor((detected / valid) * 1000) / 10 };
}

const rows = [];
let failed = false;
for (const module of modules) {
  if (!compareOnly) {
    console.log(`\n== ${module}: ${MODULES[module].join(', ')}`);
    const run = spawnSync('npx', ['stryker', 'run'], { stdio: 'inherit', env: { ...process.env, MUTATION_MODULE: module } });
    if (run.status !== 0) {
      console.error(`Stryker failed on ${module} (exit ${run.status})`);
      failed = true;
      continue;
    }
  }
  if (!existsSync(reportOf(module))) {
    console.error(`${module}: no report (${reportOf(module)})`);
    failed = true;
    continue;
  }
  const result = score(module);
  const min = thresholds[module];
  const ok = record || min === undefined || result.score >= min;
  if (!ok) failed = true;
  if (record) thresholds[module] = result.score;
  rows.push({ module, ...result, threshold: min ?? '-', ok: ok ? 'ok' : 'BELOW' });
}

console.log('\n| module | valid mutants | killed | timeout | survived | no coverage | score | threshold | |');
console.log('|---|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  console.log(`| ${r.module} | ${r.valid} | ${r.Killed} | ${r.Timeout} | ${r.Survived} | ${r.NoCoverage} | ${r.score} % | ${r.threshold} | ${r.ok} |`);
}
if (record) {
  writeFileSync(THRESHOLDS, `${JSON.stringify(thresholds, null, 2)}\n`);
  console.log(`\nrecorded in ${THRESHOLDS}`);
}
if (failed) {
  console.error('\nmutation testing failed: a module scored below its recorded score, or Stryker failed');
  process.exit(1);
}
