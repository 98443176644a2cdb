// Turns the RawRecords of one bpftrace source (`begin` context, stdout JSON lines, stderr `err`)
// into probe events: the reader keeps the context from the begin record, nothing else.
import { lineIssue, type LineOutcome } from '../parse/result.js';
import type { ProbeEvent, ProbeLineSource } from '../model/probe-event.js';
import type { RawRecord, RecordKind } from './raw-record.js';
import { probeBySourceId, type ProbeSpec } from '../parse/probes/catalog.js';
import {
  emptyProbeContext,
  parseProbeContext,
  type ProbeContext,
} from '../parse/probes/context.js';
import { parseProbeStderr } from '../parse/probes/envelope.js';

export interface ProbeRecordReader {
  readonly probe: ProbeSpec;
  /** The context in force (from the begin record; empty until one is seen). */
  context(): ProbeContext;
  read(rec: RawRecord): LineOutcome<ProbeEvent>;
  /** The same as read(), given the record's line and kind (no RawRecord needed). */
  readLine(line: string, k: RecordKind | undefined): LineOutcome<ProbeEvent>;
  /** Parses an output line (no kind) again as readLine did, with the context now in force. */
  source(): ProbeLineSource;
}

/** A reader for the records of `bpftrace:<probe>` sources; undefined for an unknown source id. */
export function createProbeRecordReader(src: string): ProbeRecordReader | undefined {
  const probe = probeBySourceId(src);
  if (!probe) return undefined;
  let ctx: ProbeContext = emptyProbeContext(probe.id);
  let lineSrc: ProbeLineSource | undefined;
  const readLine = (line: string, k: RecordKind | undefined): LineOutcome<ProbeEvent> => {
    if (k === 'begin') {
      const c = parseProbeContext(line);
      if (c.kind !== 'row') return c;
      ctx = c.value;
      lineSrc = undefined;
      return { kind: 'skip' };
    }
    if (k === 'err') return parseProbeStderr(line);
    if (k === 'end') {
      if (line.length > 300) return lineIssue('probe.bad-end', 'end record too long');
      return {
        kind: 'row',
        value: { kind: 'probe-status', status: 'info', message: `bpftrace ended: ${line}` },
      };
    }
    return probe.parse(line, ctx);
  };
  return {
    probe,
    context: () => ctx,
    read: (rec) => readLine(rec.line, rec.k),
    readLine,
    source: () => {
      if (lineSrc === undefined) {
        const c = ctx;
        lineSrc = {
          reparse: (line) => {
            const out = probe.parse(line, c);
            return out.kind === 'row' ? out.value : undefined;
          },
        };
      }
      return lineSrc;
    },
  };
}
