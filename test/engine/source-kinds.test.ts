import { describe, expect, it } from 'vitest';
import { Decoder } from '../../src/engine/decoder.js';
import {
  SOURCE_KINDS,
  sourceKindByBundleFile,
  sourceKindById,
} from '../../src/engine/source-kinds.js';
import { BUNDLE_FILES } from '../../src/record/bundle-reader.js';
import { progressLine } from '../../src/services/collect.js';

describe('source-kind catalogue', () => {
  it('has one entry per id and per bundle file', () => {
    const ids = SOURCE_KINDS.map((k) => k.id);
    expect(new Set(ids).size).toBe(ids.length);
    const files = SOURCE_KINDS.flatMap((k) => (k.bundle ? [k.bundle.file] : []));
    expect(new Set(files).size).toBe(files.length);
    expect(sourceKindById('ss:sockets')?.bundle?.file).toBe('ss.txt');
    expect(sourceKindByBundleFile('conntrack-L.txt')?.id).toBe('conntrack:list');
    expect(sourceKindById('nosuch:kind')).toBeUndefined();
  });

  it('is what the bundle reader recognises, in replay order', () => {
    expect(Object.keys(BUNDLE_FILES)).toEqual(
      SOURCE_KINDS.filter((k) => k.bundle)
        .sort((a, b) => a.bundle!.order - b.bundle!.order)
        .map((k) => k.bundle!.file),
    );
    expect(BUNDLE_FILES['conntrack-E.txt']).toEqual({
      src: 'conntrack:events',
      what: 'conntrack -E -o timestamp',
      stream: true,
      order: 9,
    });
  });

  it('names only kinds the decoder knows', () => {
    for (const k of SOURCE_KINDS) {
      if (k.id === 'kdiag:manifest') continue; // read by the bundle planner, never fed as records
      const d = new Decoder(() => {});
      d.push({ rec: { t: 1, src: k.id, line: k.what, k: 'begin' }, file: 'f', line: 1 });
      d.push({ rec: { t: 1, src: k.id, line: 'exit 0', k: 'end' }, file: 'f', line: 2 });
      d.finish();
      expect(
        d.issues.filter((i) => i.code === 'source.unknown'),
        k.id,
      ).toEqual([]);
    }
  });

  it('gives collect its progress wording, scoped files included', () => {
    expect(progressLine('sysctl@pod_a_b.txt', 'x = 1\ny = 2\n')).toBe(
      'Sysctls read for pod_a_b (2 keys)',
    );
    expect(progressLine('ss.txt', 'ESTAB 0 0 a b\n\t cubic\n')).toBe('Sockets read (1 sockets)');
    expect(progressLine('ss@kdiag-a.txt', '')).toBe('Sockets read for kdiag-a (0 sockets)');
    expect(progressLine('kube-proxy.yaml', 'a\nb\n', { from: '/etc/kp.yaml' })).toBe(
      'kube-proxy config read from /etc/kp.yaml (2 lines)',
    );
    expect(progressLine('owners.ndjson', '{}\n')).toBe('owners.ndjson written (1 lines)');
  });
});
