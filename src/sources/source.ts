// The Source interface: live tools, recordings and bundles all produce RawRecords through it.
import type { RawRecord, SourceId } from '../engine/raw-record.js';

export interface Source {
  readonly id: SourceId;
  /** The exact command (or file) behind it, kept in recordings. */
  readonly argv: readonly string[];
  /** Yields records until the source is done (a snapshot, a file) or the signal aborts (a stream). */
  records(signal: AbortSignal): AsyncIterable<RawRecord>;
  /**
   * The same records in arrays as they are read (one await per chunk, not per record), where the
   * source has them so (snapshot sources); iterate this or records(), not both.
   */
  batches?(signal: AbortSignal): AsyncIterable<readonly RawRecord[]>;
}

/** The clock a live source stamps records with; injected so tests control time. */
export type Clock = () => number;

export const systemClock: Clock = () => Date.now();
