// The preset table and docs/cloud-layers.md say the same thing, and every preset is complete.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  CLOUD_PRESET_ALIASES,
  CLOUD_PRESETS,
  cloudPresetNames,
  cloudPresetOf,
} from '../../src/model/cloud-presets.js';

const DOC = readFileSync(new URL('../../docs/cloud-layers.md', import.meta.url), 'utf8');

describe('cloud presets', () => {
  it('each has a behaviour, a source title and a provider address', () => {
    for (const n of cloudPresetNames()) {
      const p = CLOUD_PRESETS[n];
      expect(['rst-at-expiry', 'rst-on-next-packet', 'silent', 'close-at-expiry']).toContain(
        p.behaviour,
      );
      expect(p.docTitle.length, n).toBeGreaterThan(5);
      expect(p.doc, n).toMatch(/^https:\/\/[a-z0-9.-]+\.(com|io|org)\//);
      expect(p.timeoutSec === null || p.timeoutSec > 0, n).toBe(true);
    }
  });
  it('an L7 proxy is never re-armed by TCP keepalive and closes at expiry', () => {
    for (const n of ['envoy', 'ingress-nginx', 'haproxy', 'aws-alb'] as const) {
      expect(CLOUD_PRESETS[n].keepaliveRefreshes, n).toBe(false);
      expect(CLOUD_PRESETS[n].behaviour, n).toBe('close-at-expiry');
    }
  });
  it('aliases point at presets', () => {
    for (const [a, n] of Object.entries(CLOUD_PRESET_ALIASES)) {
      expect(cloudPresetOf(a)).toBe(n);
      expect(cloudPresetNames()).toContain(n);
    }
    expect(cloudPresetOf('toString')).toBeUndefined();
  });
  it('docs/cloud-layers.md lists each preset with its timeout, behaviour and source', () => {
    for (const n of cloudPresetNames()) {
      const p = CLOUD_PRESETS[n];
      const row = DOC.split('\n').find((l) => l.startsWith(`| \`${n}\` |`));
      expect(row, n).toBeDefined();
      expect(row, n).toContain(p.timeoutSec === null ? 'given' : `${p.timeoutSec} s`);
      expect(row, n).toContain(`\`${p.behaviour}\``);
      expect(row, n).toContain(p.docTitle);
      expect(row, n).toContain(p.doc.replace(/^https:\/\//, ''));
    }
  });
});
