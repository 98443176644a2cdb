// The terminal UI with stdin or stdout not a terminal: one line naming the plain-output command, exit 2.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const KDIAG = new URL('../../bin/kdiag.js', import.meta.url).pathname;
const RECORDING = new URL(
  '../../fixtures/sessions/conntrack-expiry/recording.ndjson',
  import.meta.url,
).pathname;
const run = promisify(execFile);

// execFile gives the child pipes, not terminals, on stdin, stdout and stderr.
async function kdiag(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [KDIAG, ...args]);
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('kdiag ui without a terminal', () => {
  const live = 'kdiag: the terminal UI needs a terminal on stdin and stdout; use kdiag trace\n';

  it('refuses kdiag ui and suggests kdiag trace', async () => {
    expect(await kdiag('ui')).toEqual({ code: 2, stdout: '', stderr: live });
  });

  it('refuses kdiag with no command the same way', async () => {
    expect(await kdiag()).toEqual({ code: 2, stdout: '', stderr: live });
  });

  it('refuses kdiag replay --ui and suggests kdiag replay without it', async () => {
    expect(await kdiag('replay', RECORDING, '--ui')).toEqual({
      code: 2,
      stdout: '',
      stderr: `kdiag: the terminal UI needs a terminal on stdin and stdout; use kdiag replay ${RECORDING}\n`,
    });
  });

  it('suggests kdiag replay for a recording', async () => {
    expect(await kdiag('ui', '--replay', RECORDING)).toEqual({
      code: 2,
      stdout: '',
      stderr: `kdiag: the terminal UI needs a terminal on stdin and stdout; use kdiag replay ${RECORDING}\n`,
    });
  });
});
