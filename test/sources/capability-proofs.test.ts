// doctor's proof runner without a lab: a missing tool, a tool that is not there after all, a
// listener held to its deadline, and the order of results.
import { describe, expect, it } from 'vitest';
import { judgeRun, runProofs, type Proof } from '../../src/sources/capability-proofs.js';

const none = () => Promise.resolve(undefined);
const found = (t: string) => Promise.resolve(`/usr/bin/${t}`);

describe('runProofs', () => {
  it('a missing tool is not tried, and says which', async () => {
    const p: Proof = {
      id: 'nft',
      tool: 'nft',
      argv: ['nft', 'list', 'tables'],
      timeoutMs: 1000,
      root: true,
    };
    const [r] = await runProofs([p], { root: true, which: none });
    expect(r).toEqual({
      id: 'nft',
      ok: undefined,
      what: 'nft list tables',
      detail: 'nft not found on PATH',
    });
  });
  it('a tool found on PATH that cannot be run fails in one line', async () => {
    const p: Proof = {
      id: 'ipvs',
      tool: 'kdiag-no-such-tool',
      argv: ['kdiag-no-such-tool', '-Ln'],
      timeoutMs: 1000,
      root: false,
    };
    const [r] = await runProofs([p], { root: false, which: found });
    expect(r?.ok).toBe(false);
    expect(r?.detail).toBe("can't run kdiag-no-such-tool: not found on PATH");
  });
  it('a root proof is not tried without root', async () => {
    const p: Proof = {
      id: 'kprobe',
      tool: 'sh',
      argv: ['sh', '-c', 'exit 0'],
      timeoutMs: 1000,
      root: true,
    };
    const [r] = await runProofs([p], { root: false, which: found });
    expect(r).toMatchObject({ ok: undefined, detail: 'not tried: not root' });
  });
  it('runs in parallel and keeps the order; reports each as it ends', async () => {
    const seen: string[] = [];
    const proofs: Proof[] = [
      {
        id: 'conntrack-events',
        tool: 'sh',
        argv: ['sh', '-c', 'exec sleep 5'],
        timeoutMs: 300,
        runningIsProof: true,
        root: false,
      },
      {
        id: 'nft',
        tool: 'sh',
        argv: ['sh', '-c', 'echo "ERROR: nope: Permission denied" >&2; exit 1'],
        timeoutMs: 2000,
        root: false,
      },
      {
        id: 'ipvs',
        tool: 'sh',
        argv: ['sh', '-c', 'printf "TCP  10.96.0.1:443 rr\\n"'],
        timeoutMs: 2000,
        root: false,
      },
    ];
    const rs = await runProofs(proofs, {
      root: false,
      which: found,
      onDone: (r, done, total) => seen.push(`${done}/${total} ${r.id}`),
    });
    expect(rs.map((r) => [r.id, r.ok])).toEqual([
      ['conntrack-events', true],
      ['nft', false],
      ['ipvs', true],
    ]);
    expect(rs[0]?.detail).toBe('open for 300 ms');
    expect(rs[1]?.detail).toBe('nope: Permission denied');
    expect(rs[2]?.stdout).toBe('TCP  10.96.0.1:443 rr\n');
    expect(seen).toHaveLength(3);
    expect(seen.at(-1)).toMatch(/^3\/3 /);
  });
});

describe('judgeRun', () => {
  it('a deadline proves a listener, fails anything else', () => {
    const r = { exitCode: 124, stderr: '', stdout: '', timedOut: true };
    expect(judgeRun({ timeoutMs: 700, runningIsProof: true }, r)).toEqual({
      ok: true,
      detail: 'open for 700 ms',
    });
    expect(judgeRun({ timeoutMs: 700 }, r)).toEqual({
      ok: false,
      detail: 'no answer within 700 ms',
    });
    expect(judgeRun({ timeoutMs: 1 }, { ...r, timedOut: false, exitCode: 3 })).toEqual({
      ok: false,
      detail: 'exit 3',
    });
  });
});
