// A bundle whose every input field carries terminal escapes (CSI colours, OSC 52 clipboard writes):
// check's text and JSON output and the TUI must not pass one ESC or BEL byte from it to the terminal.
import { cp, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createElement } from 'react';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { printable, printableDeep, printableExcerpt } from '../../src/model/printable.js';
import { loadReplaySession } from '../../src/services/replay-load.js';
import { App } from '../../src/ui/app.js';
import { osc52 } from '../../src/ui/clipboard.js';
import { renderTui } from '../helpers/render-tui.js';
import { runKdiag } from '../helpers/run-kdiag.js';

const SOURCE = new URL('../../fixtures/bundles/healthy-iptables', import.meta.url).pathname;
// A colour, a 256-colour the UI never uses, a clipboard write and a title change.
const EVIL =
  '\u001b[31m\u001b[38;5;199mEVIL\u001b]52;c;ZWNobyBwd25lZA==\u0007\u001b]0;title\u001b\\';
const ESC_OR_BEL = /[\u001b\u0007\u009b]/;

const kdiag = (...args: string[]) => runKdiag(args);

describe('printable', () => {
  it('removes whole escape sequences and control characters, keeps text, tabs and newlines', () => {
    expect(printable(`a${EVIL}b\tc\nd\u0000\u007f\u202e`)).toBe('aEVILb\tc\nd');
    expect(printable('plain text: 10.0.0.1:80 → ok')).toBe('plain text: 10.0.0.1:80 → ok');
  });
  it('an excerpt is short, one line and shows controls escaped', () => {
    const e = printableExcerpt(`x\u001b[31m\n${'y'.repeat(10_000)}`, 40);
    expect(e.length).toBeLessThanOrEqual(41);
    expect(e).toMatch(/^x\\x1b\[31m\\x0ay+…$/);
  });
  it('copies deeply only when needed, keeping sharing and cycles', () => {
    const clean = { a: ['x', { b: 'y' }] };
    expect(printableDeep(clean)).toBe(clean);
    const shared = { name: `p${EVIL}` };
    const dirty: { list: unknown[]; self?: unknown } = { list: [shared, shared] };
    dirty.self = dirty;
    const c = printableDeep(dirty);
    expect(c).not.toBe(dirty);
    expect((c.list[0] as { name: string }).name).toBe('pEVIL');
    expect(c.list[0]).toBe(c.list[1]);
    expect(c.self).toBe(c);
  });
  it('the clipboard never carries an escape from input', () => {
    const seq = osc52(`sysctl -w x=1${EVIL}`);
    const payload = Buffer.from(seq.slice('\u001b]52;c;'.length, -1), 'base64').toString('utf8');
    expect(payload).toBe('sysctl -w x=1EVIL');
  });
});

describe('check on a bundle full of escape sequences', () => {
  let dir: string;
  let bundle: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kdiag-hostile-'));
    bundle = join(dir, 'bundle');
    await cp(SOURCE, bundle, { recursive: true });
    await rm(join(bundle, 'expected.json'), { force: true });
    const manifest = JSON.parse(
      await readFile(join(bundle, 'kdiag-collect.json'), 'utf8'),
    ) as Record<string, unknown>;
    manifest.hostname = `node${EVIL}`;
    manifest.kernel = `6.1${EVIL}`;
    await writeFile(join(bundle, 'kdiag-collect.json'), JSON.stringify(manifest));
    // Pod names live in the file names of sysctl@POD and ss@POD.
    for (const f of await readdir(bundle)) {
      if (f.includes('@'))
        await rename(
          join(bundle, f),
          join(bundle, f.replace('@pod_shop_web', `@pod_shop_web${EVIL.replace(/[\\/]/g, '')}`)),
        );
    }
    const ipt = await readFile(join(bundle, 'iptables-save.txt'), 'utf8');
    await writeFile(
      join(bundle, 'iptables-save.txt'),
      ipt.replace(/--comment "([^"]*)"/g, (_m, c: string) => `--comment "${c}${EVIL}"`),
    );
    await writeFile(
      join(bundle, 'kube-proxy.args'),
      `/usr/local/bin/kube-proxy\n--config=/var/lib/kube-proxy/config.conf\n--hostname-override=node-1${EVIL}\n--proxy-mode=iptables${EVIL}\n`,
    );
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('text output has no ESC or BEL byte, but still names the host', async () => {
    const r = await kdiag('check', bundle);
    expect([0, 1]).toContain(r.code);
    expect(r.stdout).toMatch(/nodeEVIL/);
    expect(r.stdout).not.toMatch(ESC_OR_BEL);
    expect(r.stderr).not.toMatch(ESC_OR_BEL);
  }, 60_000);

  it('JSON output escapes them (no raw ESC or BEL byte)', async () => {
    const r = await kdiag('check', bundle, '--json', '--all-flows');
    expect([0, 1]).toContain(r.code);
    expect(r.stdout).not.toMatch(ESC_OR_BEL);
    expect(() => JSON.parse(r.stdout) as unknown).not.toThrow();
  }, 60_000);

  it('the TUI draws none of them', async () => {
    const session = await loadReplaySession(bundle, {});
    const t = renderTui(
      createElement(App, { store: session, columns: 100, rows: 32, throttleMs: 0 }),
      { columns: 100, rows: 32 },
    );
    try {
      await t.waitForFrame((f) => f.includes('REPLAY') && f.includes('iptables'), 10_000);
      const raw = t.stdout.writes.join('');
      expect(raw.length).toBeGreaterThan(0);
      // ink colours with CSI itself; what input smuggled in would be OSC, BEL or this 256-colour.
      expect(raw).not.toMatch(/\u001b\]|\u0007|\u001b\[38;5;199m/);
    } finally {
      t.unmount();
      session.close();
    }
  }, 30_000);
});
