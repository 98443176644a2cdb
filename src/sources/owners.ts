// The owners table (src/host/owners.ts) as a source: `kdiag:owners` JSON lines, so replays keep it.
import { readOwners, type OwnersTable, type ReadOwnersOptions } from '../host/owners.js';
import type { RawRecord } from '../engine/raw-record.js';
import { systemClock, type Clock, type Source } from './source.js';

/** The table as JSON lines, netns first, then pods, then pids (pure). */
export function ownersToLines(table: OwnersTable): string[] {
  return [...table.netns, ...table.pods, ...table.pids].map((o) => JSON.stringify(o));
}

/** The owners table as a snapshot source (src `kdiag:owners`): begin, one JSON line each, end. */
export function ownersSource(
  opts: { readonly clock?: Clock; readonly read?: ReadOwnersOptions } = {},
): Source & { table(): OwnersTable | undefined } {
  const clock = opts.clock ?? systemClock;
  let last: OwnersTable | undefined;
  const argv = ['kdiag', 'owners'] as const;
  return {
    id: 'kdiag:owners',
    argv,
    table: () => last,
    async *records(signal: AbortSignal): AsyncIterable<RawRecord> {
      if (signal.aborted) return;
      const t = clock();
      const src = 'kdiag:owners';
      yield { t, src, line: argv.join(' '), k: 'begin' };
      try {
        last = await readOwners(opts.read);
        for (const line of ownersToLines(last)) yield { t, src, line };
        yield { t, src, line: 'exit 0', k: 'end' };
      } catch (err) {
        yield {
          t,
          src,
          line: `can't read owners: ${err instanceof Error ? err.message : String(err)}`,
          k: 'err',
        };
        yield { t, src, line: 'exit 1', k: 'end' };
      }
    },
  };
}
