// Golden replay of the bundles under fixtures/bundles/: every folder is one test, its expected.json
// says which findings (with exactly which flows), predictions and suggestions the analysis must give.
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { AnalyzeOptions } from '../../src/analysis/analyze.js';
import { parseCloudSpec } from '../../src/model/cloud-scope.js';
import type { Finding } from '../../src/model/diagnosis.js';
import { parseSeconds } from '../../src/analysis/path/context.js';
import { analyzeInput } from '../../src/services/analyze-input.js';

const ROOT = fileURLToPath(new URL('../../fixtures/bundles/', import.meta.url));
const KDIAG = fileURLToPath(new URL('../../bin/kdiag.js', import.meta.url));
const run = promisify(execFile);

interface Expected {
  /** CLI options the bundle is analysed with (`--cloud aws-nlb`, `--path-idle-timeout 350s`). */
  readonly args?: readonly string[];
  /** Each entry matches one finding of that rule with exactly these flows; a rule's findings are all listed. */
  readonly findings: readonly { readonly rule: string; readonly flows: readonly string[] }[];
  readonly notFindings: readonly string[];
  /** The predicted flows, exactly. */
  readonly atRisk: readonly string[];
  readonly suggestions: readonly string[];
  readonly notSuggestions?: readonly string[];
  /** Text a finding's cause must contain. */
  readonly causeIncludes?: readonly { readonly rule: string; readonly text: string }[];
  /** With `kdiag replay --json --all-flows`: sources every flow must be seen by. */
  readonly allFlowsSeenBy?: readonly string[];
  readonly flowCount?: number;
}

/** The analysis options of the CLI flags an expected.json names. */
function optionsOf(args: readonly string[]): AnalyzeOptions {
  const out: { cloud?: string[]; pathIdleTimeoutSec?: number } = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const v = args[i + 1];
    if (a === '--cloud' && v !== undefined && parseCloudSpec(v).ok) {
      out.cloud = [...(out.cloud ?? []), v];
      i++;
    } else if (a === '--path-idle-timeout' && v !== undefined && parseSeconds(v) !== undefined) {
      out.pathIdleTimeoutSec = parseSeconds(v);
      i++;
    } else {
      throw new Error(`expected.json args: unsupported ${a}`);
    }
  }
  return out;
}

const sorted = (xs: readonly string[]): string[] => [...xs].sort();

const bundles = readdirSync(ROOT)
  .filter((n) => statSync(join(ROOT, n)).isDirectory())
  .sort();

describe('fixtures/bundles', () => {
  it('has bundles to replay', () => {
    expect(bundles.length).toBeGreaterThan(0);
  });

  for (const name of bundles) {
    const dir = join(ROOT, name);
    describe(name, () => {
      const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as Expected;

      it('yields the expected diagnosis', async () => {
        const r = await analyzeInput(dir, optionsOf(expected.args ?? []));
        expect(r.issues, 'parse issues').toEqual([]);
        expect(r.issueCount).toBe(0);
        expect(r.input.bundle?.ignored, 'files kdiag does not recognise').toEqual([
          'expected.json',
        ]);
        const d = r.diagnosis;
        const summary = d.findings.map((f) => `${f.rule} ${JSON.stringify(f.flows)}`).join('\n');

        // Every expected finding is one actual finding with exactly those flows, and each rule's
        // findings are all expected (no extra flows under an expected rule).
        const byRule = new Map<string, Finding[]>();
        for (const f of d.findings) byRule.set(f.rule, [...(byRule.get(f.rule) ?? []), f]);
        for (const rule of new Set(expected.findings.map((e) => e.rule))) {
          const want = expected.findings
            .filter((e) => e.rule === rule)
            .map((e) => JSON.stringify(sorted(e.flows)))
            .sort();
          const got = (byRule.get(rule) ?? []).map((f) => JSON.stringify(sorted(f.flows))).sort();
          expect(got, `findings of ${rule}; all findings:\n${summary}`).toEqual(want);
        }
        for (const rule of expected.notFindings) {
          expect(byRule.has(rule), `${rule} must not fire; all findings:\n${summary}`).toBe(false);
        }

        expect(sorted(d.predictions.map((p) => p.flow)), 'predicted flows').toEqual(
          sorted(expected.atRisk),
        );

        const ids = new Set(d.suggestions.map((s) => s.id));
        for (const id of expected.suggestions)
          expect(ids.has(id), `suggestion ${id} among ${[...ids].join(', ')}`).toBe(true);
        for (const id of expected.notSuggestions ?? [])
          expect(ids.has(id), `suggestion ${id} must not be offered`).toBe(false);
        const byId = new Map(d.suggestions.map((s) => [s.id, s]));
        for (const f of d.findings) {
          for (const id of f.suggestions) {
            const s = byId.get(id);
            expect(s, `${f.id} names suggestion ${id}`).toBeDefined();
            expect(s?.commands.length, `suggestion ${id} of ${f.id} has commands`).toBeGreaterThan(
              0,
            );
            for (const c of s?.commands ?? []) expect(c.text.trim()).not.toBe('');
          }
        }
        for (const c of expected.causeIncludes ?? []) {
          const causes = (byRule.get(c.rule) ?? []).map((f) => f.cause);
          expect(
            causes.some((x) => x.includes(c.text)),
            `a ${c.rule} cause says "${c.text}": ${causes.join(' | ')}`,
          ).toBe(true);
        }
      });

      if (expected.allFlowsSeenBy) {
        const want = expected.allFlowsSeenBy;
        it(`joins every flow across ${want.join(', ')} (kdiag replay --json --all-flows)`, async () => {
          const { stdout } = await run(
            process.execPath,
            [KDIAG, 'replay', '--json', '--all-flows', ...(expected.args ?? []), dir],
            { maxBuffer: 64 << 20 },
          );
          const j = JSON.parse(stdout) as {
            issueCount: number;
            flows: { id: string; seenBy: string[] }[];
            flowCount: number;
          };
          expect(j.issueCount).toBe(0);
          expect(j.flows.length).toBe(j.flowCount);
          if (expected.flowCount !== undefined) expect(j.flows.length).toBe(expected.flowCount);
          expect(j.flows.length).toBeGreaterThan(0);
          for (const f of j.flows) {
            for (const s of want) expect(f.seenBy, `${f.id} seen by ${s}`).toContain(s);
          }
        });
      }
    });
  }
});
