// The text report of every recorded session and bundle fits an 80-column terminal, and a YAML patch
// keeps its indentation.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderAnalysis } from '../../src/cli/output/report-text.js';
import { analyzeInput } from '../../src/services/analyze-input.js';

const FIX = new URL('../../fixtures/', import.meta.url).pathname;
const inputs = [
  ...readdirSync(join(FIX, 'sessions')).map((d) => join(FIX, 'sessions', d, 'recording.ndjson')),
  ...readdirSync(join(FIX, 'bundles'), { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => join(FIX, 'bundles', d.name)),
].filter((p) => existsSync(p));

describe('text reports', () => {
  it.each(inputs)('%s fits 80 columns', async (input) => {
    const text = renderAnalysis(await analyzeInput(input), {
      title: `kdiag replay ${input.slice(FIX.length)}`,
    });
    const long = text.split('\n').filter((l) => l.length > 80);
    expect(long).toEqual([]);
  });

  it('keeps the indentation of a KubeProxyConfiguration patch', async () => {
    const text = renderAnalysis(
      await analyzeInput(join(FIX, 'sessions', 'conntrack-expiry', 'recording.ndjson')),
      { title: 't' },
    );
    expect(text).toMatch(/\n\s+conntrack:\n\s{2,}\s+tcpEstablishedTimeout: \d+s\n/);
  });
});
