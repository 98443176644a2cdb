// The shared frame of every probe parser: envelope → status event, or tag check → field decoder.
import { lineIssue, type LineOutcome } from '../result.js';
import type { ProbeEvent } from '../../model/probe-event.js';
import { checkTag, parseEnvelope } from './envelope.js';
import type { ProbeContext } from './context.js';

/** Decodes the fields of one tagged printf line (tag already checked). */
export type FieldDecoder = (tag: string, fields: readonly string[], ctx: ProbeContext) => LineOutcome<ProbeEvent>;

/** Parses one bpftrace JSON line for a probe whose printf lines carry one of `tags`. */
export function parseProbeJsonLine(line: string, ctx: ProbeContext, tags: readonly string[], decode: FieldDecoder): LineOutcome<ProbeEvent> {
  const env = parseEnvelope(line);
  if (env.kind !== 'row') return env;
  if (env.value.kind === 'status') return { kind: 'row', value: env.value.event };
  const bad = checkTag(env.value.tag, tags);
  if (bad) return bad;
  return decode(env.value.tag, env.value.fields, ctx);
}

/** The issue for a line whose field count is wrong. */
export function fieldCountIssue(tag: string, got: number, want: number): LineOutcome<never> {
  return lineIssue('probe.bad-fields', `${tag}: ${got} fields, expected ${want}`);
}
