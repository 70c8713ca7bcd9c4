/**
 * Drops the static mutants that survived from Stryker's incremental file, so that the next
 * `stryker run` tests them again. Stryker has no per-test coverage for code run when a module loads,
 * so its incremental mode would otherwise keep reporting them as survived after a test that kills
 * them is added (https://github.com/stryker-mutator/stryker-js/issues/6119).
 */
import { readFileSync, writeFileSync } from 'node:fs';

interface IncrementalReport {
  files: Record<string, { mutants: Array<{ static?: boolean; status: string }> }>;
}

const path = 'reports/stryker-incremental.json';
const report = JSON.parse(readFileSync(path, 'utf8')) as IncrementalReport;
let dropped = 0;
for (const file of Object.values(report.files)) {
  const kept = file.mutants.filter((mutant) => !(mutant.static === true && mutant.status === 'Survived'));
  dropped += file.mutants.length - kept.length;
  file.mutants = kept;
}
writeFileSync(path, `${JSON.stringify(report, null, 2)}\n`);
console.log(`${dropped} static survivors will be tested again`);
