// Runs kubectl: buffered for the short calls, with the terminal or a file for kubectl exec.
// node:child_process only, no npm dependency: the kubectl plugin runs from the npm tarball as
// krew unpacks it, without node_modules (docs/cluster.md).
import { spawn } from 'node:child_process';
import { EnvironmentError } from '../errors.js';

export interface KubectlResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number;
}

function noKubectl(): EnvironmentError {
  return new EnvironmentError(
    'KDIAG_TOOL_MISSING',
    "can't run kubectl: not found on PATH",
    'install kubectl and point it at the cluster (kubectl get nodes works)',
  );
}

function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  return 128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 9);
}

/** Runs a short kubectl command to completion; never throws on a non-zero exit. */
export function kubectlRun(
  argv: readonly string[],
  o: { readonly input?: string; readonly timeoutMs?: number } = {},
): Promise<KubectlResult> {
  const [file, ...args] = argv;
  return new Promise((resolvePromise, reject) => {
    const child = spawn(file!, args, {
      stdio: [o.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      ...(o.timeoutMs === undefined ? {} : { timeout: o.timeoutMs }),
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (b: Buffer) => out.push(b));
    child.stderr!.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e: NodeJS.ErrnoException) => reject(e.code === 'ENOENT' ? noKubectl() : e));
    child.on('close', (code, signal) =>
      resolvePromise({
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        exitCode: exitCodeOf(code, signal),
      }),
    );
    if (o.input !== undefined) child.stdin!.end(o.input);
  });
}

/**
 * Runs kubectl with stderr the caller's and stdout the terminal's or an open file (`stdoutFd`,
 * for a bundle's bytes). Resolves with kubectl's exit code (a signal counts 128+n).
 */
export function kubectlPassThrough(
  argv: readonly string[],
  o: { readonly stdoutFd?: number; readonly stdin?: 'inherit' | 'ignore' } = {},
): Promise<number> {
  const [file, ...args] = argv;
  return new Promise((resolvePromise, reject) => {
    const child = spawn(file!, args, {
      stdio: [o.stdin ?? 'inherit', o.stdoutFd ?? 'inherit', 'inherit'],
    });
    child.on('error', (e: NodeJS.ErrnoException) => reject(e.code === 'ENOENT' ? noKubectl() : e));
    child.on('close', (code, signal) => resolvePromise(exitCodeOf(code, signal)));
  });
}
