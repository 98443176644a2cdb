// Shared by the lab tests: bring a lab up, run one scenario, always tear down.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { labDown, labNamespaces, labUp, type Lab } from '../../src/lab/lab.js';
import { runScenario, type ScenarioResult } from '../../src/lab/scenarios.js';

const AGENT = fileURLToPath(new URL('../../dist/src/lab/agent.js', import.meta.url));

/** Fails loudly when the agent was not built: the lab tests need `npm run build` first. */
export function requireBuiltAgent(): void {
  if (!existsSync(AGENT)) {
    throw new Error(
      `lab tests need the built agent ${AGENT}: run npx tsc -p tsconfig.build.json (npm test does)`,
    );
  }
}

/** Lab up → scenario → lab down, even when the scenario throws. */
export async function runInFreshLab(
  name: string,
  opts: { dropInvalid?: boolean } = {},
): Promise<ScenarioResult> {
  let lab: Lab | undefined;
  try {
    lab = await labUp({ dropInvalid: opts.dropInvalid ?? false });
    return await runScenario(name, { lab });
  } finally {
    if (lab) await lab.down();
    else await labDown();
  }
}

/** afterAll: nothing of the lab may be left. */
export async function assertNoLabLeft(): Promise<string[]> {
  await labDown();
  return labNamespaces();
}

export const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Index of the first event line matching `re` (at or after `from`), or -1. */
export function findLine(lines: readonly string[], re: RegExp, from = 0): number {
  for (let i = from; i < lines.length; i++) if (re.test(lines[i]!)) return i;
  return -1;
}
