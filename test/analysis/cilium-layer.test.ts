// The Cilium layer of a path: which timeout an entry re-arms to, and the layer a config alone gives
// (a bundle without the CT list: the keepalive-short bundle's other files, copied here).
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ciliumTimeoutKey, type CiliumCtEntry } from '../../src/model/cilium.js';
import { analyzeInput } from '../../src/services/analyze-input.js';

const entry = (over: Partial<CiliumCtEntry>): CiliumCtEntry => ({
  proto: 'TCP',
  dir: 'OUT',
  src: '10.0.0.1',
  sport: 40000,
  dst: '10.0.0.2',
  dport: 80,
  related: false,
  service: false,
  expires: 100,
  flags: 0x10,
  revNat: 0,
  layout: 'current',
  ...over,
});

describe('ciliumTimeoutKey (bpf/lib/conntrack.h ct_update_timeout)', () => {
  it('picks the key by protocol, tuple and TCP state', () => {
    expect(ciliumTimeoutKey(entry({}))).toBe('bpf-ct-timeout-regular-tcp');
    expect(ciliumTimeoutKey(entry({ dir: 'SVC', service: true }))).toBe(
      'bpf-ct-timeout-service-tcp',
    );
    expect(ciliumTimeoutKey(entry({ flags: 0 }))).toBe('bpf-ct-timeout-regular-tcp-syn');
    expect(ciliumTimeoutKey(entry({ flags: 0x13 }))).toBe('bpf-ct-timeout-regular-tcp-fin');
    expect(ciliumTimeoutKey(entry({ proto: 'UDP', flags: 0 }))).toBe('bpf-ct-timeout-regular-any');
    expect(ciliumTimeoutKey(entry({ proto: 'UDP', dir: 'SVC', service: true }))).toBe(
      'bpf-ct-timeout-service-any',
    );
  });
});

describe('a Cilium config without a CT list', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kdiag-cilium-cfg-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const src = fileURLToPath(
    new URL('../../fixtures/bundles/cilium-keepalive-short/', import.meta.url),
  );
  for (const f of [
    'kdiag-collect.json',
    'cilium-config.yaml',
    'ss@pod_payments_worker-6c9d8b7f4-m4kx2.txt',
  ])
    cpSync(join(src, f), join(dir, f));

  it('races each flow against the configured timeout and says the list is missing', async () => {
    const r = await analyzeInput(dir, {});
    const f = r.diagnosis.findings.find(
      (x) => x.rule === 'cilium.ct-timeout-shorter-than-keepalive',
    );
    expect(f?.flows).toHaveLength(2);
    expect(f?.cause).toContain('cilium-config bpf-ct-timeout-regular-tcp=3600s');
    expect(r.missing.map((m) => m.input)).toContain(
      'Cilium CT list (cilium-dbg bpf ct list global -d)',
    );
    const v = r.diagnosis.flows[0]?.layers.find((l) => l.layer === 'cilium');
    expect(v).toMatchObject({ timeoutSec: 3600 });
  });
});
