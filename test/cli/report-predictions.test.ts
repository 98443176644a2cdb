// The text report groups at-risk flows by who connects where once they no longer fit one per line.
import { describe, expect, it } from 'vitest';
import { renderPredictions } from '../../src/cli/output/report-text.js';
import { diagnose } from '../../src/engine/diagnose.js';
import { T0, ct, ctSnapshot, obs, sock, ssSnapshot, tableOf } from '../helpers/builders.js';

function flows(n: number) {
  const ports = Array.from({ length: n }, (_, i) => 40000 + i);
  return tableOf([
    obs.sysctls(T0, { 'net.netfilter.nf_conntrack_tcp_timeout_established': '600' }),
    ...ctSnapshot(
      T0 + 10_000,
      ports.map((p) =>
        ct(`10.0.0.1:${p}>10.96.0.20:5432`, `10.0.0.${7 + (p % 2)}:5432>10.0.0.1:${p}`, {
          timeout: 590,
        }),
      ),
    ),
    ...ssSnapshot(
      T0 + 10_000,
      ports.map((p) =>
        sock(`10.0.0.1:${p}`, '10.96.0.20:5432', {
          lastsndMs: 10_000,
          lastrcvMs: 10_000,
          lastackMs: 10_000,
        }),
      ),
      'app',
    ),
  ]);
}

describe('renderPredictions', () => {
  it('lists each flow while they fit', () => {
    expect(renderPredictions(diagnose(tableOf([])), 200)).toEqual([]);
    const lines = renderPredictions(diagnose(flows(3)), 200).join('\n');
    expect(lines).toContain('At risk, next to break (3)');
    expect(lines).toContain('tcp 10.0.0.1:40000 > 10.96.0.20:5432');
  });

  it('groups them by owner and Service at scale, with every backend', () => {
    const d = diagnose(flows(12));
    expect(d.predictions).toHaveLength(12);
    const lines = renderPredictions(d, 200);
    expect(lines).toEqual([
      '',
      'At risk, next to break (12)',
      '  12 flows from netns app to tcp 10.96.0.20:5432, no keepalive, forgotten by conntrack after 600 s idle; the first in 9m50s',
      '    backends: 10.0.0.7:5432, 10.0.0.8:5432',
    ]);
  });
});
