// Runs the built CLI (bin/kdiag.js) as a child process and returns its exit code and output.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const KDIAG = new URL('../../bin/kdiag.js', import.meta.url).pathname;
const run = promisify(execFile);

export interface KdiagRun {
  /** The exit code; null when a signal ended it. */
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** `kdiag ARGS…`; `asNobody` runs it as uid/gid 65534 through setpriv (needs root). */
export async function runKdiag(
  args: readonly string[],
  opts: { asNobody?: boolean; cwd?: string } = {},
): Promise<KdiagRun> {
  const argv = opts.asNobody
    ? [
        'setpriv',
        '--reuid=65534',
        '--regid=65534',
        '--clear-groups',
        process.execPath,
        KDIAG,
        ...args,
      ]
    : [process.execPath, KDIAG, ...args];
  try {
    const r = await run(argv[0]!, argv.slice(1), {
      maxBuffer: 64 << 20,
      timeout: 60_000,
      ...(opts.cwd ? { cwd: opts.cwd } : {}),
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number | string; stdout: string; stderr: string };
    return { code: typeof e.code === 'number' ? e.code : null, stdout: e.stdout, stderr: e.stderr };
  }
}
