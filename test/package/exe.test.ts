// The single executable (npm run build:exe), when one has been built: builds nothing itself, and
// checks dist-exe/kdiag against the npm build of the same tree.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KDIAG_VERSION } from '../../src/version.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const EXE = join(ROOT, 'dist-exe', 'kdiag');
const BIN = join(ROOT, 'bin', 'kdiag.js');
const RECORDING = join(ROOT, 'fixtures', 'sessions', 'conntrack-expiry', 'recording.ndjson');
const run = promisify(execFile);

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

async function exec(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<Ran> {
  try {
    const r = await run(file, args, { env: { ...process.env, ...env }, maxBuffer: 64 << 20 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe.skipIf(!existsSync(EXE))('dist-exe/kdiag', () => {
  // Its own TMPDIR shows whether the executable removes the files it unpacks.
  let tmp: string;
  const exe = (...args: string[]) => exec(EXE, args, { TMPDIR: tmp });
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'kdiag-exe-test-'));
  });
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it('prints the version and the help', async () => {
    expect(await exe('--version')).toMatchObject({
      code: 0,
      stdout: `${KDIAG_VERSION}\n`,
      stderr: '',
    });
    const help = await exe('doctor', '--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: kdiag doctor/);
  });

  it('replays a recording exactly as the npm build does', async () => {
    const fromExe = await exe('replay', RECORDING, '--json');
    const fromNode = await exec(process.execPath, [BIN, 'replay', RECORDING, '--json'], {});
    expect(fromExe.code).toBe(1);
    expect(fromExe.stderr).toBe(fromNode.stderr);
    expect(fromExe.stdout).toBe(fromNode.stdout);
  });

  it('turns bad usage into one line and exit code 2', async () => {
    const r = await exe('no-such-command');
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      "kdiag: unknown command 'no-such-command'\n  hint: kdiag --help lists the commands\n",
    );
  });

  it('leaves nothing behind in TMPDIR', async () => {
    await exe('--version');
    expect(await readdir(tmp)).toEqual([]);
  });
});
