// Chooses the parser for a bpftrace probe's lines, given the template context its begin record carries.
import type { ProbeEvent } from '../model/probe-event.js';
import type { LineOutcome } from '../parse/result.js';

export type ProbeLineParser = (line: string) => LineOutcome<ProbeEvent>;

/** Returns a line parser for the probe, or a message saying why there is none. */
export function createProbeLineParser(probeId: string, _contextLine: string | undefined): ProbeLineParser | string {
  return `no parser for probe "${probeId}"`;
}
