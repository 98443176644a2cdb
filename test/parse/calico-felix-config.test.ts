import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseFelixConfig } from '../../src/parse/calico-felix-config.js';

const fixture = (name: string): string =>
  readFileSync(new URL(`../../fixtures/tools/calico/${name}`, import.meta.url), 'utf8');

describe('parseFelixConfig (kubectl get felixconfiguration -o yaml)', () => {
  it('reads bpfEnabled and bpfConntrackTimeouts with their lines and seconds', () => {
    const r = parseFelixConfig(fixture('felixconfiguration.yaml'));
    expect(r.issues).toEqual([]);
    expect(r.value).toMatchObject({
      name: 'default',
      bpfEnabled: true,
      timeouts: { tcpEstablished: '10m', udpTimeout: '90s' },
      seconds: { tcpEstablished: 600, udpTimeout: 90 },
    });
    expect(r.value?.lines.tcpEstablished).toBe(13);
  });

  it('keeps Auto as a word with no seconds', () => {
    const r = parseFelixConfig(fixture('felixconfiguration-auto.yaml'));
    expect(r.value?.timeouts).toEqual({ tcpEstablished: 'Auto' });
    expect(r.value?.seconds).toEqual({});
  });

  it('picks default out of a List (a node-specific one comes first)', () => {
    const r = parseFelixConfig(fixture('felixconfiguration-list.yaml'));
    expect(r.issues).toEqual([]);
    expect(r.value?.name).toBe('default');
    expect(r.value?.seconds.tcpEstablished).toBe(7200);
  });

  it('says which values Felix would refuse, and what is not a FelixConfiguration', () => {
    const bad = parseFelixConfig(
      'kind: FelixConfiguration\nmetadata:\n  name: default\nspec:\n  bpfConntrackTimeouts:\n    tcpEstablished: 1day\n    tcpForever: 1h\n',
    );
    expect(bad.issues.map((i) => `${i.line}:${i.code}`)).toEqual([
      '6:felix.bad-timeout',
      '7:felix.unknown-timeout',
    ]);
    expect(bad.value?.timeouts).toEqual({});
    expect(parseFelixConfig('kind: ConfigMap\n').issues[0]?.code).toBe(
      'felix.not-felixconfiguration',
    );
    expect(parseFelixConfig('kind: [\n').issues[0]?.code).toBe('felix.yaml-syntax');
  });
});
