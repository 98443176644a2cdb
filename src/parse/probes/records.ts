// Turns the RawRecords of one bpftrace source (`begin` context, stdout JSON lines, stderr `err`)
// into probe events: the reader keeps the context from the begin record, nothing else.
import { lineIssue, type LineOutcome } from '../result.js';
import type { ProbeEvent } from '../../model/probe-event.js';
import type { RawRecord } from '../../sources/raw-record.js';
import { probeBySourceId, type ProbeSpec } from './catalog.js';
import { emptyProbeContext, parseProbeContext, type ProbeContext } from './context.js';
import { parseProbeStderr } from './envelope.js';

export interface ProbeRecordReader {
  readonly probe: ProbeSpec;
  /** The context in force (from the begin record; empty until one is seen). */
  context(): ProbeContext;
  read(rec: RawRecord): LineOutcome<ProbeEvent>;
}

/** A reader for the records of `bpftrace:<probe>` sources; undefined for an unknown source id. */
export function createProbeRecordReader(src: string): ProbeRecordReader | undefined {
  const probe = probeBySourceId(src);
  if (!probe) return undefined;
  let ctx: ProbeContext = emptyProbeContext(probe.id);
  return {
    probe,
    context: () => ctx,
    read(rec) {
      if (rec.k === 'begin') {
        const c = parseProbeContext(rec.line);
        if (c.kind !== 'row') return c;
        ctx = c.value;
        return { kind: 'skip' };
      }
      if (rec.k === 'err') return parseProbeStderr(rec.line);
      if (rec.k === 'end') {
        if (rec.line.length > 300) return lineIssue('probe.bad-end', 'end record too long');
        return { kind: 'row', value: { kind: 'probe-status', status: 'info', message: `bpftrace ended: ${rec.line}` } };
      }
      return probe.parse(rec.line, ctx);
    },
  };
}
