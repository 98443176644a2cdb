// The exporter over a real recorded lab session (fixtures/sessions/conntrack-expiry): the reset the
// expiry caused is counted under its rule, the conntrack timeouts as read appear per netns.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/engine.js';
import { feedItemFor } from '../../src/engine/feed.js';
import type { RawRecord } from '../../src/engine/raw-record.js';
import type { FeedItem } from '../../src/model/session.js';
import { createDiagnosisExporter } from '../../src/metrics/registry.js';

const DIR = new URL('../../fixtures/sessions/conntrack-expiry/', import.meta.url).pathname;

async function exposition(): Promise<{ text: string; flow: string }> {
  const items: FeedItem[] = [];
  const engine = new Engine({
    onObservation: (o) => {
      const it = feedItemFor(o);
      if (it) items.push(it);
    },
  });
  const lines = readFileSync(`${DIR}recording.ndjson`, 'utf8').split('\n').filter(Boolean);
  lines
    .slice(1)
    .forEach((l, i) => engine.push({ rec: JSON.parse(l) as RawRecord, file: 'r', line: i + 2 }));
  engine.finish();
  const d = engine.diagnose();
  const exporter = createDiagnosisExporter(
    () => ({
      diagnosis: d,
      settings: engine.table,
      sources: [],
      parseIssues: engine.decoder.issueCount,
    }),
    { processMetrics: false },
  );
  for (const item of items) exporter.onChange({ type: 'event', item });
  const flow = (JSON.parse(readFileSync(`${DIR}expected.json`, 'utf8')) as { flow: string }).flow;
  return { text: await exporter.scrape(), flow };
}

describe('exporter over a recorded session', () => {
  it('counts the reset under the expiry rule and exports the timeouts read', async () => {
    const { text } = await exposition();
    expect(text).toMatch(
      /^kdiag_packet_events_total\{kind="reset",rule="conntrack\.established-expired",fm="FM-1"\} [1-9]/m,
    );
    expect(text).toMatch(
      /^kdiag_conntrack_timeout_seconds\{netns="[^"]+",state="tcp_established"\} \d+/m,
    );
    expect(text).toMatch(
      /^kdiag_findings\{rule="conntrack\.established-expired",fm="FM-1",severity="\w+"\} 1$/m,
    );
    expect(text).toContain('# TYPE kdiag_flow_time_to_break_seconds histogram');
  });
});
