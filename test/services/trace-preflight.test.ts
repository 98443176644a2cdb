import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { preflightTrace } from '../../src/services/trace-preflight.js';

const root = process.getuid?.() === 0;
let dir = '';
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('preflightTrace', () => {
  // As root (CI) the record checks run; elsewhere the root check refuses first.
  it('refuses a --record path that is taken, a planted dangling link included', async () => {
    dir = await mkdtemp(join(tmpdir(), 'kdiag-preflight-'));
    const file = join(dir, 'taken.ndjson');
    const link = join(dir, 'link.ndjson');
    await writeFile(file, 'x');
    await symlink(join(dir, 'nowhere'), link);
    for (const record of [file, link]) {
      const refused = preflightTrace({ record });
      if (root) await expect(refused).rejects.toThrow(`${record}: already exists`);
      else await expect(refused).rejects.toThrow(/root/);
    }
    if (root)
      await expect(preflightTrace({ record: join(dir, 'new.ndjson') })).resolves.toBe(undefined);
  });

  it('refuses a namespace that does not exist, with the way to list them', async () => {
    const refused = preflightTrace({ netns: 'kdiag-no-such-netns' });
    if (root)
      await expect(refused).rejects.toMatchObject({
        message: expect.stringContaining("can't use network namespace kdiag-no-such-netns"),
        hint: 'list them with: ip netns list',
      });
    else await expect(refused).rejects.toThrow(/root/);
  });
});
