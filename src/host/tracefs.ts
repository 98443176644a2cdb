// Reads tracepoint format files from tracefs (/sys/kernel/tracing, else /sys/kernel/debug/tracing):
// /…/events/<group>/<event>/format, parsed by src/parse/tracefs-format.ts.
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EnvironmentError } from '../errors.js';
import { parseTraceFormat, type TraceFormat } from '../parse/tracefs-format.js';

export const TRACEFS_CANDIDATES = ['/sys/kernel/tracing', '/sys/kernel/debug/tracing'] as const;
export const TRACEFS_MOUNT_HINT = 'mount -t tracefs tracefs /sys/kernel/tracing';

/** The mounted tracefs root (one that has `events/`), or undefined. */
export async function findTracefs(
  candidates: readonly string[] = TRACEFS_CANDIDATES,
): Promise<string | undefined> {
  for (const dir of candidates) {
    try {
      await access(join(dir, 'events'));
      return dir;
    } catch {
      // not mounted here
    }
  }
  return undefined;
}

/** The tracefs root, or an EnvironmentError saying how to mount it. */
export async function requireTracefs(candidates?: readonly string[]): Promise<string> {
  const root = await findTracefs(candidates);
  if (root === undefined) {
    throw new EnvironmentError(
      'KDIAG_ENVIRONMENT',
      "can't read tracepoints: tracefs is not mounted",
      TRACEFS_MOUNT_HINT,
    );
  }
  return root;
}

function splitName(tracepoint: string): [string, string] {
  const [group, event, extra] = tracepoint.split(':');
  if (
    !group ||
    !event ||
    extra !== undefined ||
    !/^[\w-]+$/.test(group) ||
    !/^[\w-]+$/.test(event)
  ) {
    throw new TypeError(`not a tracepoint name: ${tracepoint}`);
  }
  return [group, event];
}

/** Reads and parses one tracepoint's format (`skb:kfree_skb`); undefined when the kernel lacks it. */
export async function readTraceFormat(
  root: string,
  tracepoint: string,
): Promise<TraceFormat | undefined> {
  const [group, event] = splitName(tracepoint);
  let text: string;
  try {
    text = await readFile(join(root, 'events', group, event, 'format'), 'utf8');
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return undefined;
    throw new EnvironmentError(
      'KDIAG_ENVIRONMENT',
      `can't read the format of ${tracepoint}: ${(err as Error).message}`,
      'run kdiag as root',
    );
  }
  return parseTraceFormat(text).value;
}

/** Field names of a format, without the common_* header. */
export function eventFieldNames(f: TraceFormat): string[] {
  return f.fields.filter((x) => !x.common).map((x) => x.name);
}
