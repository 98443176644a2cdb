// TEMPORARY (helper): records every scenario to /tmp/rec for replay-based iteration. Delete after.
import { copyFile, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { labDown, labUp, type Lab } from '../../src/lab/lab.js';
import { listScenarios } from '../../src/lab/scenarios.js';
import { traceScenario } from './trace-harness.js';

const only = process.env.REC_ONLY?.split(',');
describe('record', () => {
  let lab: Lab;
  beforeAll(async () => { lab = await labUp({}); }, 120_000);
  afterAll(async () => { await lab?.down(); await labDown(); }, 120_000);
  for (const s of listScenarios().filter((x) => !only || only.includes(x.id))) {
    it(s.id, async () => {
      const rec = `/tmp/rec/${s.id}.ndjson`;
      const t = await traceScenario(lab, s.id, rec);
      await writeFile(`/tmp/rec/${s.id}.result.json`, JSON.stringify(t.result, null, 1));
      await writeFile(`/tmp/rec/${s.id}.live.ndjson`, t.lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
      await writeFile(`/tmp/rec/${s.id}.stderr`, t.stderr + `\nexit ${t.exitCode}\n`);
    }, 240_000);
  }
});
