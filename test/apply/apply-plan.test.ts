// The one apply service the CLI and the TUI share: a change is planned into the namespace the
// command or session works in. The TUI used to plan every suggestion onto the node ("This runs on
// the host: $ sysctl -w …") even in `kdiag ui --netns LAB`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { aimOf } from '../../src/apply/aim.js';
import { commitApply, proposeApply, type NamespaceFinder } from '../../src/apply/apply-plan.js';
import { NODE, type Target } from '../../src/apply/target.js';
import { KdiagError, UsageError } from '../../src/errors.js';
import type { Diagnosis, Suggestion } from '../../src/model/diagnosis.js';
import { sessionApplier } from '../../src/services/session-apply.js';
import { at, fakeLive } from '../helpers/fake-live.js';

const KEY = 'net.netfilter.nf_conntrack_tcp_timeout_established';
const LAB: Target = { kind: 'netns', name: 'LAB' };
const nodeSuggestion: Suggestion = {
  id: 'node-conntrack-established',
  scope: 'node',
  rank: 4,
  title: 'Raise the established timeout',
  rationale: 'r',
  fixes: [],
  commands: [],
  warnings: [],
  change: { kind: 'sysctl', key: KEY, value: '86400' },
};
const diagnosis: Diagnosis = {
  at: 0,
  findings: [],
  predictions: [],
  flows: [],
  suggestions: [nodeSuggestion],
};
const noNamespaces: NamespaceFinder = {
  pidTarget: async (pid) => {
    throw new Error(`unexpected pid ${pid}`);
  },
  scopeTarget: async (label) => {
    throw new Error(`unexpected label ${label}`);
  },
};
const dirs: string[] = [];
const journalDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'kdiag-apply-plan-'));
  dirs.push(d);
  return join(d, 'j');
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('aimOf (pure)', () => {
  it("aims a node-scope suggestion at the session's netns, never the node", () => {
    expect(aimOf({ netns: 'LAB' }, nodeSuggestion.change)).toEqual({ kind: 'netns', name: 'LAB' });
    expect(aimOf({ pid: 42 }, nodeSuggestion.change)).toEqual({ kind: 'pid', pid: 42 });
    expect(aimOf({}, nodeSuggestion.change)).toEqual({ kind: 'node' });
  });

  it("aims a pod suggestion at its namespace, and refuses one for another session's namespace", () => {
    const pod = {
      kind: 'sysctl' as const,
      key: 'net.ipv4.tcp_keepalive_time',
      value: '600',
      netns: 'pod_shop_api-0',
    };
    expect(aimOf({}, pod)).toEqual({ kind: 'label', label: 'pod_shop_api-0' });
    expect(aimOf({ netns: 'pod_shop_api-0' }, pod)).toEqual({
      kind: 'netns',
      name: 'pod_shop_api-0',
    });
    expect(() => aimOf({ netns: 'LAB' }, pod, 'pod-keepalive')).toThrow(
      'suggestion pod-keepalive is for netns pod_shop_api-0, not LAB',
    );
    expect(() => aimOf({ netns: 'LAB', pid: 1 })).toThrow(UsageError);
  });
});

describe('proposeApply / commitApply', () => {
  it("plans a session's node-scope suggestion into LAB, shows LAB's name and identity, and writes only there", async () => {
    const live = fakeLive({ [at(KEY)]: '3600', [at(KEY, LAB)]: '300' }, { LAB: '4:4026532301' });
    const jdir = journalDir();
    const p = await proposeApply(
      { scope: { netns: 'LAB' }, what: { suggestionId: nodeSuggestion.id, diagnosis } },
      { live, journalDir: jdir, namespaces: noNamespaces },
    );
    expect(p.plan.target).toEqual(LAB);
    expect(p.plan.nsId).toBe('4:4026532301');
    expect(p.lines).toContain('Where    netns LAB');
    expect(p.lines).toContain('Identity 4:4026532301 (dev:inode of the network namespace)');
    expect(p.lines).toContain('Value    300 → 86400');
    const outcome = await commitApply(p, { live, journalDir: jdir });
    expect(outcome.ok).toBe(true);
    expect(live.writes).toEqual([`${at(KEY, LAB)}=86400`]);
    expect(live.values.get(at(KEY))).toBe('3600');
  });

  it("refuses a netns that is the node's own, and a pid that lives in the node's namespace", async () => {
    const live = fakeLive({ [at(KEY, LAB)]: '300' }, { LAB: 'init' });
    const err = await proposeApply(
      { scope: { netns: 'LAB' }, what: { changeSpec: `sysctl:${KEY}=86400` } },
      { live, journalDir: journalDir(), namespaces: noNamespaces },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KdiagError);
    expect((err as Error).message).toMatch(/netns LAB is the node's own network namespace/);
    const hostPid: NamespaceFinder = { ...noNamespaces, pidTarget: async () => NODE };
    const live2 = fakeLive({ [at(KEY)]: '3600' });
    await expect(
      proposeApply(
        { scope: { pid: 1 }, what: { changeSpec: `sysctl:${KEY}=86400` } },
        { live: live2, journalDir: journalDir(), namespaces: hostPid },
      ),
    ).rejects.toThrow(/node's own network namespace/);
    expect(live.writes).toEqual([]);
    expect(live2.writes).toEqual([]);
  });

  it('changes nothing when the namespace was re-created between the plan and y', async () => {
    const live = fakeLive({ [at(KEY, LAB)]: '300' }, { LAB: '4:1' });
    const jdir = journalDir();
    const p = await proposeApply(
      { scope: { netns: 'LAB' }, what: { changeSpec: `sysctl:${KEY}=86400` } },
      { live, journalDir: jdir, namespaces: noNamespaces },
    );
    live.namespaces.set('LAB', '4:2');
    await expect(commitApply(p, { live, journalDir: jdir })).rejects.toThrow(
      /no longer the namespace the plan showed \(4:1, now 4:2\)/,
    );
    expect(live.writes).toEqual([]);
  });
});

describe('the TUI session applier', () => {
  it('`kdiag ui --netns LAB`: a node-scope suggestion goes into LAB, only after its plan was shown', async () => {
    const live = fakeLive({ [at(KEY)]: '3600', [at(KEY, LAB)]: '300' }, { LAB: '4:4026532301' });
    const applier = await sessionApplier({
      scope: { netns: 'LAB' },
      journalDir: journalDir(),
      live,
      namespaces: noNamespaces,
    });
    await expect(applier.apply(nodeSuggestion.id)).rejects.toThrow(/has no plan shown/);
    const preview = await applier.plan(nodeSuggestion.id, diagnosis);
    expect(preview.lines.join('\n')).toContain('Where    netns LAB\nIdentity 4:4026532301');
    const applied = await applier.apply(nodeSuggestion.id);
    expect(applied.summary).toBe(`${KEY}: 300 → 86400`);
    expect(live.writes).toEqual([`${at(KEY, LAB)}=86400`]);
  });

  it('refuses a session namespace that was re-created since the session began', async () => {
    const live = fakeLive({ [at(KEY, LAB)]: '300' }, { LAB: '4:1' });
    const applier = await sessionApplier({
      scope: { netns: 'LAB' },
      journalDir: journalDir(),
      live,
      namespaces: noNamespaces,
    });
    live.namespaces.set('LAB', '4:9');
    await expect(applier.plan(nodeSuggestion.id, diagnosis)).rejects.toThrow(
      /not the namespace this session diagnoses \(4:1, now 4:9\)/,
    );
  });
});
