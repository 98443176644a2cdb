// The Cilium sources on a fake /proc tree and a fake cilium-dbg on PATH: what they would run and
// the records they make, decoded back into the snapshot and settings the analysis reads.
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Decoder } from '../../src/engine/decoder.js';
import type { Observation } from '../../src/model/observation.js';
import { asCiliumCtSettings, asCiliumCtSnapshot } from '../../src/model/cilium.js';
import {
  CILIUM_DEFAULT_CONFIG_DIR,
  ciliumConfigDir,
  ciliumConfigSource,
  ciliumCtArgv,
  ciliumCtSource,
  findCiliumAgent,
} from '../../src/sources/cilium-source.js';

const FIXTURE = new URL('../../fixtures/tools/cilium/ct-list-global-d.txt', import.meta.url);

function decode(
  recs: readonly { t: number; src: string; line: string; k?: 'begin' | 'end' | 'err' }[],
): Observation[] {
  const out: Observation[] = [];
  const d = new Decoder((o) => out.push(o));
  recs.forEach((rec, i) => d.push({ rec, file: 'live', line: i + 1 }));
  d.finish();
  expect(d.issues).toEqual([]);
  return out;
}

describe('cilium sources', () => {
  let root: string;
  let proc: string;
  let bin: string;
  const savedPath = process.env.PATH;

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'kdiag-cilium-'));
    proc = join(root, 'proc');
    mkdirSync(join(proc, '40'), { recursive: true });
    writeFileSync(join(proc, '40', 'comm'), 'containerd\n');
    writeFileSync(join(proc, '40', 'cmdline'), 'containerd\0');
    const cfg = join(proc, '4242', 'root', 'tmp/cilium/config-map');
    mkdirSync(cfg, { recursive: true });
    writeFileSync(join(proc, '4242', 'comm'), 'cilium-agent\n');
    writeFileSync(
      join(proc, '4242', 'cmdline'),
      'cilium-agent\0--config-dir=/tmp/cilium/config-map\0--bpf-ct-timeout-service-tcp=2h\0',
    );
    writeFileSync(join(cfg, 'bpf-ct-timeout-regular-tcp'), '1h');
    writeFileSync(join(cfg, 'conntrack-gc-interval'), '0s');
    writeFileSync(join(cfg, 'cluster-name'), 'default');
    bin = join(root, 'bin');
    mkdirSync(bin);
    const script = join(bin, 'cilium-dbg');
    writeFileSync(script, `#!/bin/sh\nexec /bin/cat '${FIXTURE.pathname}'\n`);
    chmodSync(script, 0o755);
  });
  afterAll(() => {
    process.env.PATH = savedPath;
    rmSync(root, { recursive: true, force: true });
  });

  it('reads --config-dir in both forms, with the chart default', () => {
    expect(ciliumConfigDir(['cilium-agent', '--config-dir', '/etc/cilium'])).toBe('/etc/cilium');
    expect(ciliumConfigDir(['cilium-agent', '--config-dir=/x'])).toBe('/x');
    expect(ciliumConfigDir(['cilium-agent'])).toBe(CILIUM_DEFAULT_CONFIG_DIR);
  });

  it('finds the agent by its comm', async () => {
    const a = await findCiliumAgent(proc);
    expect(a?.pid).toBe(4242);
    expect(a?.configDir).toBe('/tmp/cilium/config-map');
    expect(await findCiliumAgent(join(root, 'nowhere'))).toBeUndefined();
  });

  it('lists through the agent mount namespace when cilium-dbg is not on PATH', async () => {
    process.env.PATH = join(root, 'empty');
    const a = await findCiliumAgent(proc);
    expect(await ciliumCtArgv(a)).toEqual([
      'nsenter',
      '-t',
      '4242',
      '-m',
      '--',
      'cilium-dbg',
      'bpf',
      'ct',
      'list',
      'global',
      '-d',
    ]);
    expect(await ciliumCtArgv(undefined)).toBeUndefined();
    const src = await ciliumCtSource(undefined);
    const recs = await src.snapshot();
    expect(recs.some((r) => r.k === 'err' && r.line.includes('no cilium-dbg'))).toBe(true);
  });

  it('runs cilium-dbg from PATH and decodes its listing', async () => {
    process.env.PATH = bin;
    const src = await ciliumCtSource(undefined);
    expect(src.argv).toEqual(['cilium-dbg', 'bpf', 'ct', 'list', 'global', '-d']);
    const obs = decode(await src.snapshot());
    const meta = obs.find((o) => o.kind === 'meta' && o.key === 'cilium-ct');
    const snap = asCiliumCtSnapshot(meta?.kind === 'meta' ? meta.value : undefined);
    expect(snap?.entries).toHaveLength(9);
    expect(snap?.timeDiff).toBe(true);
    expect(snap?.lines[0]).toBe(readFileSync(FIXTURE, 'utf8').split('\n')[0]!.trimEnd());
  });

  it('reads the CT keys of the config dir and the CT flags', async () => {
    const a = await findCiliumAgent(proc);
    const src = ciliumConfigSource(a, { proc });
    const recs = await src.snapshot();
    expect(recs.filter((r) => r.k === undefined).map((r) => r.line)).toEqual([
      'bpf-ct-timeout-regular-tcp: 1h',
      'conntrack-gc-interval: 0s',
      '--bpf-ct-timeout-service-tcp=2h',
    ]);
    const meta = decode(recs).find((o) => o.kind === 'meta' && o.key === 'cilium-config');
    const s = asCiliumCtSettings(meta?.kind === 'meta' ? meta.value : undefined);
    expect(s?.timeouts['bpf-ct-timeout-regular-tcp']?.value).toBe(3600);
    expect(s?.timeouts['bpf-ct-timeout-service-tcp']?.source).toBe(
      'cilium-agent --bpf-ct-timeout-service-tcp=2h',
    );
  });

  it('says it is unavailable without an agent', async () => {
    const recs = await ciliumConfigSource(undefined, { proc }).snapshot();
    expect(recs.find((r) => r.k === 'err')?.line).toContain("can't find a cilium-agent");
  });
});
