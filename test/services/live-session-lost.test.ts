import { describe, expect, it } from 'vitest';
import { LiveSession } from '../../src/services/live-session.js';
import { ENOBUFS_WARNING, droppedLine } from '../../src/sources/conntrack-source.js';
import type { RawRecord } from '../../src/sources/raw-record.js';
import type { Source } from '../../src/sources/source.js';

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

describe('LiveSession loss counters', () => {
  it('adds the number a loss line states, and one for a warning that states none', async () => {
    const ct = 'conntrack:events';
    const bt = 'bpftrace:trace_tcp_state';
    const session = new LiveSession({
      sources: [
        recordsSource(ct, [
          { t: 1, src: ct, line: 'conntrack -E -o timestamp,extended,id -b 8388608', k: 'begin' },
          { t: 2, src: ct, line: ENOBUFS_WARNING, k: 'err' },
          { t: 2, src: ct, line: 'This message means that the current netlink socket buffer size is too small.', k: 'err' },
          { t: 2, src: ct, line: 'Please, check --buffer-size in conntrack(8) manpage.', k: 'err' },
          { t: 3, src: ct, line: droppedLine(40, 41), k: 'err' },
          { t: 4, src: ct, line: 'exit 0', k: 'end' },
        ]),
        recordsSource(bt, [{ t: 2, src: bt, line: 'Lost 5 events', k: 'err' }]),
      ],
      analysis: {},
      clock: () => 10,
      analyzeEveryMs: 60_000,
    });
    session.start();
    await session.stop();
    const lost = Object.fromEntries(session.sourceHealth().map((h) => [h.id, h.lost]));
    expect(lost).toEqual({ [ct]: 41, [bt]: 5 });
  });
});
