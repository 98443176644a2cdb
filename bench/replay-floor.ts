// The limits a replay of a recording meets on the machine at hand, whatever the parser and model:
// cutting the file into lines (kdiag's own reader, no JS per byte), and one JavaScript read of every
// byte of every line. The replay figure reports them next to kdiag's rate, so a reader can tell a
// slow machine from a slow kdiag, and what a target asks of the code on this machine.
import { readLineSpans } from '../src/record/line-reader.js';
import { foldDigits, median } from './lib.js';

export interface ReplayFloor {
  readonly lines: number;
  readonly bytes: number;
  /** Seconds to read the file and cut it into line spans. */
  readonly cutSec: number;
  /** Seconds to do that and read every byte of every line once in JS. */
  readonly touchSec: number;
}

async function pass(
  path: string,
  touch: boolean,
): Promise<{ sec: number; lines: number; bytes: number; acc: number }> {
  const t0 = performance.now();
  let lines = 0;
  let bytes = 0;
  let acc = 0;
  for await (const sp of readLineSpans(path)) {
    if (sp.head !== undefined) {
      lines++;
      bytes += sp.head.length;
      if (touch) acc = foldDigits(sp.head, 0, sp.head.length, acc);
    }
    const { buf, starts, ends, count } = sp;
    lines += count;
    for (let i = 0; i < count; i++) {
      bytes += ends[i]! - starts[i]!;
      if (touch) acc = foldDigits(buf, starts[i]!, ends[i]!, acc);
    }
  }
  return { sec: (performance.now() - t0) / 1000, lines, bytes, acc };
}

/** The median of `runs` of each pass (they are short and the machine is shared). */
export async function replayFloor(path: string, runs = 5): Promise<ReplayFloor> {
  const cut: number[] = [];
  const touch: number[] = [];
  let lines = 0;
  let bytes = 0;
  for (let r = 0; r < runs; r++) {
    const a = await pass(path, false);
    const b = await pass(path, true);
    if (a.lines !== b.lines)
      throw new Error('replay floor: the two passes saw different line counts');
    cut.push(a.sec);
    touch.push(b.sec);
    lines = a.lines;
    bytes = a.bytes;
  }
  return { lines, bytes, cutSec: median(cut), touchSec: median(touch) };
}
