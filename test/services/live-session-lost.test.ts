import { stripVTControlCharacters } from 'node:util';
import { renderToString } from 'ink';
import { createElement } from 'react';
import { describe, expect, it } from 'vitest';
import { renderAnalysis } from '../../src/cli/output/report-text.js';
import { lostEventCount } from '../../src/parse/lost-events.js';
import { analyzeRecords } from '../../src/services/analyze-input.js';
import { LiveSession } from '../../src/services/live-session.js';
import { ReplaySession } from '../../src/services/replay-session.js';
import { ENOBUFS_WARNING, droppedLine } from '../../src/sources/conntrack-source.js';
import type { RawRecord } from '../../src/engine/raw-record.js';
import type { Source } from '../../src/sources/source.js';
import { StatusLine } from '../../src/ui/views/status-line.js';

/** A source that yields fixed records (the session under test does the counting). */
function recordsSource(id: string, records: readonly RawRecord[]): Source {
  return {
    id,
    argv: [],
    async *records() {
      for (const r of records) yield r;
    },
  };
}

const CT = 'conntrack:events';
const BT = 'bpftrace:trace_tcp_state';
const CT_RECORDS: readonly RawRecord[] = [
  { t: 1, src: CT, line: 'conntrack -E -o timestamp,extended,id -b 8388608', k: 'begin' },
  { t: 2, src: CT, line: ENOBUFS_WARNING, k: 'err' },
  {
    t: 2,
    src: CT,
    line: 'This message means that the current netlink socket buffer size is too small.',
    k: 'err',
  },
  { t: 2, src: CT, line: 'Please, check --buffer-size in conntrack(8) manpage.', k: 'err' },
  { t: 3, src: CT, line: droppedLine(40, 41), k: 'err' },
  { t: 4, src: CT, line: 'exit 0', k: 'end' },
];
// bpftrace says it twice over: on stderr, and (with -f json) as a lost_events record on stdout.
const BT_RECORDS: readonly RawRecord[] = [
  { t: 2, src: BT, line: 'Lost 5 events', k: 'err' },
  { t: 3, src: BT, line: '{"type": "lost_events", "data": {"events": 7}}' },
];

describe('lostEventCount', () => {
  it('reads the stated number, one for a warning without one, none for other lines', () => {
    expect(lostEventCount('Lost 5 events')).toBe(5);
    expect(lostEventCount(droppedLine(40, 41))).toBe(40);
    expect(lostEventCount(ENOBUFS_WARNING)).toBe(1);
    expect(
      lostEventCount(
        'This message means that the current netlink socket buffer size is too small.',
      ),
    ).toBe(0);
    expect(
      lostEventCount('conntrack v1.4.7 (conntrack-tools): 7 flow events have been shown.'),
    ).toBe(0);
    expect(lostEventCount('lost 99999999999999999999 events')).toBe(1);
  });
});

describe('LiveSession loss counters', () => {
  it('adds the number a loss line states, and one for a warning that states none', async () => {
    const session = new LiveSession({
      sources: [recordsSource(CT, CT_RECORDS), recordsSource(BT, BT_RECORDS)],
      analysis: {},
      clock: () => 10,
      analyzeEveryMs: 60_000,
    });
    session.start();
    await session.stop();
    const lost = Object.fromEntries(session.sourceHealth().map((h) => [h.id, h.lost]));
    expect(lost).toEqual({ [CT]: 41, [BT]: 12 });
  });

  it('replays to the same counts, and the report says what was lost', async () => {
    let no = 0;
    async function* located() {
      for (const rec of [...CT_RECORDS, ...BT_RECORDS])
        yield { rec, file: 'mem.ndjson', line: ++no };
    }
    const r = await analyzeRecords({
      info: { kind: 'recording', path: 'mem.ndjson' },
      records: located(),
      notices: [],
    });
    expect(r.sources[CT]?.lost).toBe(41);
    expect(r.sources[BT]?.lost).toBe(12);
    const text = renderAnalysis(r, { title: 'kdiag replay mem.ndjson', width: 200 });
    expect(text).toContain(
      `warning: 53 events were lost while recording (${CT} 41, ${BT} 12): what they showed is missing from this analysis`,
    );
  });

  it('shows in the replay TUI what each source had lost by the replayed moment', () => {
    const records = [...CT_RECORDS, ...BT_RECORDS]
      .sort((a, b) => a.t - b.t)
      .map((rec, i) => ({ rec, file: 'mem.ndjson', line: i + 1 }));
    const session = new ReplaySession(records, {});
    try {
      const lostAt = (t: number): Record<string, number> => {
        session.dispatch({ type: 'seek', t });
        return Object.fromEntries(session.getSnapshot().sources.map((h) => [h.id, h.lost]));
      };
      expect(lostAt(1)).toEqual({ [CT]: 0 });
      expect(lostAt(2)).toEqual({ [CT]: 1, [BT]: 5 });
      expect(lostAt(4)).toEqual({ [CT]: 41, [BT]: 12 });
      const snap = session.getSnapshot();
      expect(snap.sources.find((h) => h.id === CT)?.state).toBe('done');
      const line = stripVTControlCharacters(
        renderToString(
          createElement(StatusLine, {
            snapshot: snap,
            eventRate: 0,
            message: null,
            filterDraft: null,
            width: 160,
          }),
          { columns: 160 },
        ),
      );
      expect(line).toContain(`${CT} done lost 41`);
      expect(line).toContain(`${BT}`);
      expect(line).toContain('lost 12');
    } finally {
      session.close();
    }
  });
});
