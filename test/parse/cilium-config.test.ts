import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseCiliumConfig, parseGoDuration } from '../../src/parse/cilium-config.js';

const fx = (name: string): string =>
  readFileSync(new URL(`../../fixtures/tools/cilium/${name}`, import.meta.url), 'utf8');

describe('parseGoDuration', () => {
  it('reads Go durations in seconds', () => {
    expect(parseGoDuration('8000s')?.sec).toBe(8000);
    expect(parseGoDuration('2h13m20s')?.sec).toBe(8000);
    expect(parseGoDuration('1m0s')?.sec).toBe(60);
    expect(parseGoDuration('1.5h')?.sec).toBe(5400);
    expect(parseGoDuration('0s')?.sec).toBe(0);
    expect(parseGoDuration('500ms')?.sec).toBe(0.5);
  });
  it('marks a bare number as nanoseconds, and refuses the rest', () => {
    expect(parseGoDuration('3600')).toEqual({ sec: 3.6e-6, bareNs: true });
    expect(parseGoDuration('-5s')).toBeUndefined();
    expect(parseGoDuration('one hour')).toBeUndefined();
    expect(parseGoDuration('5d')).toBeUndefined();
  });
});

describe('parseCiliumConfig', () => {
  it('reads the CT keys of a ConfigMap and ignores the others', () => {
    const r = parseCiliumConfig(fx('cilium-configmap.yaml'));
    expect(r.issues).toEqual([]);
    expect(r.value.timeouts['bpf-ct-timeout-regular-tcp']).toEqual({
      value: 3600,
      source: 'cilium-config bpf-ct-timeout-regular-tcp=1h',
    });
    expect(r.value.timeouts['bpf-ct-timeout-regular-any']?.value).toBe(60);
    expect(Object.keys(r.value.timeouts)).toHaveLength(7);
    expect(r.value.gcIntervalSec?.value).toBe(0);
  });

  it('reads agent flags, `--k=v` and `--k v`', () => {
    const r = parseCiliumConfig(fx('cilium-agent-args.txt'));
    expect(r.issues).toEqual([]);
    expect(r.value.timeouts['bpf-ct-timeout-regular-tcp']?.source).toBe(
      'cilium-agent --bpf-ct-timeout-regular-tcp=21600s',
    );
    expect(r.value.timeouts['bpf-ct-timeout-service-tcp']?.value).toBe(21600);
    expect(r.value.gcIntervalSec?.value).toBe(300);
    expect(r.value.from).toContain('agent flags');
  });

  it('reads flags on one line and key=value dumps', () => {
    const r = parseCiliumConfig(
      'cilium-agent --bpf-ct-timeout-regular-tcp=2h --enable-ipv4=true\nbpf-ct-timeout-regular-any=30s\n',
    );
    expect(r.value.timeouts['bpf-ct-timeout-regular-tcp']?.value).toBe(7200);
    expect(r.value.timeouts['bpf-ct-timeout-regular-any']?.value).toBe(30);
  });

  it('says what is wrong with bad values, line by line', () => {
    const r = parseCiliumConfig(fx('cilium-config-malformed.yaml'));
    expect(r.issues.map((i) => [i.line, i.code])).toEqual([
      [3, 'cilium-config.bare-number'],
      [4, 'cilium-config.bad-duration'],
      [5, 'cilium-config.bad-duration'],
    ]);
  });
});
