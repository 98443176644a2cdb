// Reads a bundle folder (plain outputs of the usual commands, one file each) as RawRecords.
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import type { LocatedRecord } from '../engine/raw-record.js';
import { SOURCE_KINDS } from '../engine/source-kinds.js';
import { readLines } from './line-reader.js';

/** Recognised bundle file names (design.md) and the source kind each stands for, from the catalogue. */
export const BUNDLE_FILES: Readonly<
  Record<string, { src: string; what: string; stream?: boolean; order: number }>
> = Object.fromEntries(
  SOURCE_KINDS.flatMap((k) =>
    k.bundle === undefined
      ? []
      : [
          [
            k.bundle.file,
            {
              src: k.id,
              what: k.what,
              ...(k.bundle.stream ? { stream: true } : {}),
              order: k.bundle.order,
            },
          ] as const,
        ],
  ).sort((a, b) => a[1].order - b[1].order),
);

/** A bundle file held in memory (from an archive or a pasted ticket): its lines with their numbers in `label`. */
export interface MemoryFile {
  readonly label: string;
  readonly lines: readonly { readonly no: number; readonly text: string }[];
}

export interface BundlePlan {
  readonly dir: string;
  /** The files' contents when they are not in `dir` on disk (an archive, a ticket), by name. */
  readonly memory?: ReadonlyMap<string, MemoryFile>;
  /** Files to read, in the order they are replayed, with their source ids (`ss@kdiag-lab-client.txt` → `ss:sockets@kdiag-lab-client`). */
  readonly files: readonly {
    readonly name: string;
    readonly src: string;
    readonly what: string;
    readonly stream: boolean;
  }[];
  readonly ignored: readonly string[];
  /** Capture time of the snapshots (ms since the epoch), from the manifest or the event stream; 0 when unknown. */
  readonly t: number;
  readonly timeKnown: boolean;
  readonly host?: { hostname?: string; kernel?: string; redacted?: boolean };
}

/** Splits `ss@scope.txt` into the known base name and the scope. */
function classify(name: string): { base: string; scope?: string } {
  const m = /^([^@]+)@([A-Za-z0-9._-]{1,64})(\.[a-z]+)$/.exec(name);
  if (m) return { base: `${m[1]}${m[3]}`, scope: m[2]! };
  return { base: name };
}

const EVENT_TS = /^\[(\d{9,11})\.(\d{1,6})\]/;

async function lastEventTime(
  lines: AsyncIterable<{ readonly text: string }>,
): Promise<number | undefined> {
  let last: number | undefined;
  for await (const l of lines) {
    const m = EVENT_TS.exec(l.text);
    if (m) last = Number(m[1]) * 1000 + Math.floor(Number(m[2]!.padEnd(6, '0')) / 1000);
  }
  return last;
}

/** Looks at a bundle folder: which files it will read, which it ignores, and what time the snapshots carry. */
export async function planBundle(dir: string): Promise<BundlePlan> {
  let names: string[];
  try {
    names = (await readdir(dir)).sort();
  } catch (err) {
    throw new InputError(dir, undefined, `can't read bundle folder: ${(err as Error).message}`);
  }
  return planFrom(dir, names, {
    isFile: async (name) => {
      const st = await stat(join(dir, name)).catch(() => undefined);
      return !st || st.isFile();
    },
    text: (name) => readFile(join(dir, name), 'utf8'),
    lastEventTime: (name) => lastEventTime(readLines(join(dir, name))),
  });
}

/** The same plan for files held in memory (an archive's, a ticket's sections); `label` names the whole in errors. */
export async function planMemoryBundle(
  label: string,
  files: ReadonlyMap<string, MemoryFile>,
): Promise<BundlePlan> {
  const names = [...files.keys()].sort();
  const plan = await planFrom(label, names, {
    isFile: async () => true,
    text: async (name) =>
      files
        .get(name)!
        .lines.map((l) => l.text)
        .join('\n'),
    lastEventTime: (name) => lastEventTime(memoryLines(files.get(name)!)),
  });
  return { ...plan, memory: files };
}

async function* memoryLines(f: MemoryFile): AsyncGenerator<{ no: number; text: string }> {
  yield* f.lines;
}

interface PlanAccess {
  isFile(name: string): Promise<boolean>;
  text(name: string): Promise<string>;
  lastEventTime(name: string): Promise<number | undefined>;
}

async function planFrom(
  dir: string,
  names: readonly string[],
  io: PlanAccess,
): Promise<BundlePlan> {
  const files: { name: string; src: string; what: string; stream: boolean; order: number }[] = [];
  const ignored: string[] = [];
  for (const name of names) {
    const { base, scope } = classify(name);
    const known = BUNDLE_FILES[base];
    if (!known || (scope !== undefined && known.src.startsWith('kdiag:'))) {
      ignored.push(name);
      continue;
    }
    if (!(await io.isFile(name))) {
      ignored.push(name);
      continue;
    }
    files.push({
      name,
      src: scope === undefined ? known.src : `${known.src}@${scope}`,
      what: known.what,
      stream: Boolean(known.stream),
      order: known.order,
    });
  }
  files.sort((a, b) => a.order - b.order || a.name.localeCompare(b.name));
  if (files.filter((f) => f.src !== 'kdiag:manifest').length === 0) {
    throw new InputError(
      dir,
      undefined,
      `no recognised files in the bundle (expected some of: ${Object.keys(BUNDLE_FILES)
        .filter((n) => !n.startsWith('kdiag'))
        .join(', ')})`,
    );
  }
  let t = 0;
  let timeKnown = false;
  let host: BundlePlan['host'];
  const manifest = files.find((f) => f.src === 'kdiag:manifest');
  if (manifest) {
    try {
      const m = JSON.parse(await io.text(manifest.name)) as {
        collectedAt?: string;
        hostname?: string;
        kernel?: string;
        redacted?: boolean;
      };
      const ms = m.collectedAt ? Date.parse(m.collectedAt) : NaN;
      if (Number.isFinite(ms)) {
        t = ms;
        timeKnown = true;
      }
      host = {
        ...(m.hostname ? { hostname: m.hostname } : {}),
        ...(m.kernel ? { kernel: m.kernel } : {}),
        ...(m.redacted === true ? { redacted: true } : {}),
      };
    } catch (err) {
      throw new InputError(join(dir, manifest.name), 1, `bad manifest: ${(err as Error).message}`);
    }
  }
  if (!timeKnown) {
    const events = files.find((f) => f.src.startsWith('conntrack:events'));
    const last = events ? await io.lastEventTime(events.name) : undefined;
    if (last !== undefined) {
      t = last;
      timeKnown = true;
    }
  }
  // Without a capture time the snapshots still need one far from zero: ss gives idle times as
  // "ms before now" (lastsnd), and an activity at a negative time reads as none.
  if (!timeKnown) t = RELATIVE_ORIGIN_MS;
  return {
    dir,
    files: files.filter((f) => f.src !== 'kdiag:manifest'),
    ignored,
    t,
    timeKnown,
    ...(host ? { host } : {}),
  };
}

/** The time given to snapshots of a bundle that carries none: a year after the epoch, so times are relative to it. */
export const RELATIVE_ORIGIN_MS = 365 * 24 * 3600 * 1000;

/**
 * Streams a bundle as framed RawRecords: each snapshot file between begin and end records stamped with
 * the bundle time; an event file line by line with each event's own timestamp.
 */
export async function* readBundle(plan: BundlePlan): AsyncGenerator<LocatedRecord> {
  for (const f of plan.files) {
    const mem = plan.memory?.get(f.name);
    const path = join(plan.dir, f.name);
    const label = mem?.label ?? path;
    const first = mem?.lines[0]?.no ?? 1;
    if (!f.stream)
      yield {
        rec: { t: plan.t, src: f.src, line: f.what, k: 'begin' },
        file: label,
        line: first - 1,
      };
    let n = first - 1;
    for await (const l of mem ? memoryLines(mem) : readLines(path, label)) {
      if (l.text.includes('\u0000'))
        throw new InputError(
          label,
          l.no,
          `binary data (NUL byte): expected the text output of ${f.what}`,
        );
      n = l.no;
      let t = plan.t;
      if (f.stream) {
        const m = EVENT_TS.exec(l.text);
        if (m) t = Number(m[1]) * 1000 + Math.floor(Number(m[2]!.padEnd(6, '0')) / 1000);
      }
      yield { rec: { t, src: f.src, line: l.text }, file: label, line: l.no };
    }
    if (!f.stream)
      yield { rec: { t: plan.t, src: f.src, line: 'exit 0', k: 'end' }, file: label, line: n + 1 };
  }
}
