// Every command through the real CLI: a mistyped flag, a missing argument and (where root is
// needed) a run as an unprivileged user exit 2 with one line and no stack trace.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runKdiag, type KdiagRun } from '../helpers/run-kdiag.js';

type Run = KdiagRun;
const kdiag = runKdiag;

function expectOneLineError(r: Run, pattern: RegExp): void {
  expect(r.code, r.stderr).toBe(2);
  const lines = r.stderr
    .trim()
    .split('\n')
    .filter((l) => !l.startsWith('  hint:'));
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^kdiag: /);
  expect(lines[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

/** The command names listed under "Commands:" in a help text. */
function commandsIn(help: string): string[] {
  const section = help.split('\nCommands:\n')[1]?.split('\n\n')[0];
  if (section === undefined) return [];
  return [...section.matchAll(/^ {2}([a-z][a-z-]*)/gm)]
    .map((m) => m[1]!)
    .filter((c) => c !== 'help');
}

/** The first option of a help text that takes a value (`--out <dir>`). */
function optionWithValue(help: string): string | undefined {
  return /^\s+(?:-\w, )?(--[a-z-]+) <[^>]+>/m.exec(help)?.[1];
}

const isRoot = process.getuid?.() === 0;

describe('exit codes', () => {
  const commands: string[][] = [];
  const helps = new Map<string, string>();
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kdiag-exit-'));
    const top = commandsIn((await kdiag(['--help'])).stdout);
    for (const c of top) {
      commands.push([c]);
      const help = (await kdiag([c, '--help'])).stdout;
      helps.set(c, help);
      for (const sub of commandsIn(help)) {
        commands.push([c, sub]);
        helps.set(`${c} ${sub}`, (await kdiag([c, sub, '--help'])).stdout);
      }
    }
  }, 120_000);
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('finds the commands to walk', () => {
    expect(commands.map((c) => c.join(' '))).toEqual(
      expect.arrayContaining([
        'trace',
        'check',
        'replay',
        'ui',
        'collect',
        'apply',
        'doctor',
        'lab',
        'lab up',
        'lab run',
      ]),
    );
  });

  it('a mistyped flag on any command exits 2 with one line', async () => {
    for (const c of commands)
      expectOneLineError(await kdiag([...c, '--no-such-flag']), /unknown option '--no-such-flag'/);
    expectOneLineError(await kdiag(['--no-such-flag']), /unknown option/);
    expectOneLineError(await kdiag(['no-such-command']), /unknown command/);
  }, 180_000);

  it('a flag missing its value, or a missing argument, exits 2 with one line', async () => {
    let checked = 0;
    for (const c of commands) {
      const help = helps.get(c.join(' ')) ?? '';
      const opt = optionWithValue(help);
      if (opt !== undefined) {
        expectOneLineError(await kdiag([...c, opt]), /argument missing/);
        checked++;
      }
      if (/^Usage: \S+ \S+.* <[^>]+>/m.test(help.split('\n')[0] ?? '')) {
        expectOneLineError(await kdiag(c), /missing required argument/);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(5);
  }, 180_000);

  it('help, --version and --cloud list exit 0 on stdout', async () => {
    for (const args of [
      ['--help'],
      ['--version'],
      ['check', '--help'],
      ['check', '--cloud', 'list'],
    ]) {
      const r = await kdiag(args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      expect(r.stdout.length).toBeGreaterThan(0);
    }
    expect((await kdiag(['check', '--cloud', 'list'])).stdout).toMatch(
      /^aws-nlb +350s +rst-on-next-packet +ingress +yes$/m,
    );
  }, 60_000);

  it('bad durations are usage errors, not rounded away', async () => {
    expectOneLineError(
      await kdiag(['trace', '--interval', '40ms']),
      /--interval must be at least 100 ms/,
    );
    expectOneLineError(
      await kdiag(['check', '--path-idle-timeout', '0.1ms']),
      /--path-idle-timeout must be at least/,
    );
    expectOneLineError(
      await kdiag(['check', '--path-idle-timeout', '5x']),
      /--path-idle-timeout must be a positive duration/,
    );
    expectOneLineError(
      await kdiag(['check', '--cloud', 'no-such-cloud']),
      /--cloud "no-such-cloud" names no preset/,
    );
  }, 60_000);

  describe.skipIf(!isRoot)('as an unprivileged user (setpriv to nobody)', () => {
    it('check, trace and doctor on the live node exit 2', async () => {
      expectOneLineError(await kdiag(['check'], { asNobody: true, cwd: '/' }), /not root/);
      expectOneLineError(
        await kdiag(['trace', '--duration', '1s'], { asNobody: true, cwd: '/' }),
        /not root/,
      );
      const doctor = await kdiag(['doctor'], { asNobody: true, cwd: '/' });
      expect(doctor.code).toBe(2);
      expect(doctor.stdout).toMatch(/FAIL\s+not root/);
    }, 120_000);

    it('collect as non-root writes a partial bundle, says so and exits 2', async () => {
      const { chmod } = await import('node:fs/promises');
      // Sticky, like /tmp: collect refuses a folder others can swap files in without it.
      await chmod(dir, 0o1777);
      const r = await kdiag(['collect', '--out', join(dir, 'partial')], {
        asNobody: true,
        cwd: '/',
      });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(
        /^kdiag: partial bundle: \d+ files? could not be collected \(.*conntrack-S\.txt/m,
      );
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }, 120_000);
  });
  if (!isRoot)
    it.skip('as an unprivileged user: skipped, the test does not run as root so cannot setpriv', () => {});
});
