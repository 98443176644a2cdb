import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

// The import boundaries of docs/DEVELOPING.md live in eslint.config.js; these cases fail if a rule
// there is lost or loosened, and also if it starts to forbid what the layout allows.
const root = fileURLToPath(new URL('../..', import.meta.url));
const eslint = new ESLint({ cwd: root });

async function rulesFired(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(`${code}\n`, { filePath });
  if (!result) throw new Error(`no lint result for ${filePath}`);
  return result.messages.map((m) => m.ruleId ?? `fatal: ${m.message}`);
}

const IMPORTS = '@typescript-eslint/no-restricted-imports';
const SYNTAX = 'no-restricted-syntax';

describe('import boundaries', () => {
  it.each([
    ['src/model/x.ts', "import { readFileSync } from 'node:fs';", IMPORTS],
    ['src/model/x.ts', "import { readFileSync } from 'fs';", IMPORTS],
    ['src/parse/x.ts', "import { execa } from 'execa';", IMPORTS],
    ['src/engine/x.ts', "import { join } from 'node:path';", IMPORTS],
    ['src/analysis/x.ts', "import { run } from '../sources/exec.js';", IMPORTS],
    ['src/analysis/path/x.ts', "import { run } from '../../host/exec.js';", IMPORTS],
    ['src/suggest/x.ts', "import { render } from 'ink';", IMPORTS],
    ['src/engine/x.ts', "export { readFixture } from '../record/fixture-reader.js';", IMPORTS],
    ['src/analysis/x.ts', "const { run } = await import('../services/check.js');", SYNTAX],
    ['src/model/x.ts', "const fs = await import('node:fs');", SYNTAX],
    ['src/sources/x.ts', "import { FlowTable } from '../model/flow-table.js';", IMPORTS],
    ['src/sources/x.ts', "import { Decoder } from '../engine/decoder.js';", IMPORTS],
    ['src/record/x.ts', "import { parseConntrack } from '../parse/conntrack-entry.js';", IMPORTS],
    ['src/services/x.ts', "import { renderReport } from '../cli/output/report.js';", IMPORTS],
    ['src/services/x.ts', "const { renderApp } = await import('../ui/render-app.js');", SYNTAX],
    ['src/ui/x.tsx', "import { run } from '../sources/exec.js';", IMPORTS],
    ['src/ui/x.tsx', "import { execa } from 'execa';", IMPORTS],
  ])('%s: %s is refused', async (file, code, rule) => {
    expect(await rulesFired(file, code)).toContain(rule);
  });

  it.each([
    ['src/model/x.ts', "import type { ParseIssue } from '../parse/result.js';"],
    ['src/analysis/path/x.ts', "import { FlowTable } from '../../model/flow-table.js';"],
    ['src/engine/x.ts', "import { KdiagError } from '../errors.js';"],
    ['src/sources/x.ts', "import type { RawRecord } from '../engine/record.js';"],
    ['src/sources/x.ts', "import { catalog } from '../parse/probes/catalog.js';"],
    ['src/record/x.ts', "import type { RawRecord } from '../engine/raw-record.js';"],
    ['src/services/x.ts', "import { analyze } from '../analysis/analyze.js';"],
    ['src/host/x.ts', "import { execa } from 'execa';"],
    ['src/cli/x.ts', "const { renderApp } = await import('../ui/render-app.js');"],
  ])('%s: %s is allowed', async (file, code) => {
    expect(await rulesFired(file, code)).toEqual([]);
  });
});

describe('only src/cli prints', () => {
  it.each([
    ['src/analysis/x.ts', "console.log('x');", 'no-console'],
    ['src/services/x.ts', "process.stdout.write('x');", SYNTAX],
    ['src/host/x.ts', "process.stderr.write('x');", SYNTAX],
    // Boundary blocks set no-restricted-syntax too; the print ban must survive them.
    [
      'src/services/x.ts',
      "const { a } = await import('../model/a.js');\nprocess.stderr.write('x');",
      SYNTAX,
    ],
  ])('%s: %s is refused', async (file, code, rule) => {
    expect(await rulesFired(file, code)).toContain(rule);
  });

  it('lets src/cli write to stdout', async () => {
    expect(
      await rulesFired('src/cli/x.ts', "process.stdout.write('x');\nconsole.error('y');"),
    ).toEqual([]);
  });
});
