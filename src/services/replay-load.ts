// Loads a recording or bundle whole, for the TUI (which seeks in it).
import type { AnalyzeOptions } from '../analysis/analyze.js';
import { InputError } from '../errors.js';
import type { LocatedRecord } from '../engine/raw-record.js';
import { openInput, optionsFromHeader } from './analyze-input.js';
import { ReplaySession } from './replay-session.js';

/** Records kept in memory for seeking; beyond this, replay the file with `kdiag replay` instead. */
const MAX_RECORDS = 5_000_000;

/** Loads a recording for the TUI (whole, so it can seek). */
export async function loadReplaySession(
  input: string,
  analysis: AnalyzeOptions,
): Promise<ReplaySession> {
  const opened = await openInput(input);
  const records: LocatedRecord[] = [];
  for await (const r of opened.records) {
    records.push(r);
    if (records.length > MAX_RECORDS)
      throw new InputError(
        input,
        r.line,
        `more than ${MAX_RECORDS} records: too large for the interactive view`,
        { hint: 'use kdiag replay without --ui' },
      );
  }
  return new ReplaySession(records, { ...optionsFromHeader(opened.info.header), ...analysis });
}
