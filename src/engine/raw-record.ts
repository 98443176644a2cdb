// The record contract: RawRecord is the only thing a source produces and what a recording stores;
// the engine reads it, located in its file and line.

/**
 * Source ids are `<tool>:<stream>` with an optional `@<scope>` naming the network namespace
 * the tool ran in (`ss:sockets@kdiag-client`). The part before `@` selects the parser.
 */
export type SourceId = string;

export type RecordKind = 'begin' | 'end' | 'err';

export interface RawRecord {
  /** Capture time, ms since the epoch. */
  readonly t: number;
  readonly src: SourceId;
  /** The exact text line the tool printed (for `begin`: the command; for `end`: the exit status). */
  readonly line: string;
  /**
   * Absent for an ordinary stdout line. Snapshots (`conntrack -L`, `ss`, `sysctl -a` …) are framed
   * by a `begin` and an `end` record of the same src, so a replay knows which lines make one snapshot.
   * `err` marks a stderr line (kept: conntrack prints its summary and errors there).
   */
  readonly k?: RecordKind;
}

/** A record with the place it came from, so problems can name file and line. */
export interface LocatedRecord {
  readonly rec: RawRecord;
  readonly file: string;
  readonly line: number;
}

/** The parser-selecting part of a source id: `ss:sockets@ns` → `ss:sockets`. */
export function sourceKind(src: SourceId): string {
  const at = src.indexOf('@');
  return at < 0 ? src : src.slice(0, at);
}

/** The network-namespace scope of a source id, or undefined for the host. */
export function sourceScope(src: SourceId): string | undefined {
  const at = src.indexOf('@');
  return at < 0 ? undefined : src.slice(at + 1);
}
