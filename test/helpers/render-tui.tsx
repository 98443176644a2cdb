// A small ink-testing-library: renders into a fake terminal of fixed size, records frames, takes raw keys.
import { EventEmitter } from 'node:events';
import { stripVTControlCharacters } from 'node:util';
import type { ReactElement } from 'react';
import { render as inkRender } from 'ink';

class FakeStdout extends EventEmitter {
  readonly frames: string[] = [];
  readonly writes: string[] = [];
  readonly isTTY = true;
  constructor(
    public columns: number,
    public rows: number,
  ) {
    super();
  }
  write = (data: string): boolean => {
    this.writes.push(data);
    // In debug mode ink writes each frame whole; raw writes (OSC 52) carry no frame.
    if (!data.startsWith('\u001B]')) this.frames.push(stripVTControlCharacters(data));
    return true;
  };
}

class FakeStdin extends EventEmitter {
  readonly isTTY = true;
  private queue: string[] = [];
  write(data: string): void {
    this.queue.push(data);
    this.emit('readable');
    this.emit('data', data);
  }
  read = (): string | null => this.queue.shift() ?? null;
  setEncoding(): void {}
  setRawMode(): void {}
  resume(): void {}
  pause(): void {}
  ref(): void {}
  unref(): void {}
}

/** Renders `node` in a fake terminal; frames are ANSI-stripped. */
export function renderTui(node: ReactElement, { columns = 80, rows = 24 } = {}) {
  const stdout = new FakeStdout(columns, rows);
  const stdin = new FakeStdin();
  const instance = inkRender(node, {
    stdout: stdout as unknown as NodeJS.WriteStream,
    stdin: stdin as unknown as NodeJS.ReadStream,
    debug: true,
    exitOnCtrlC: false,
    patchConsole: false,
  });
  const lastFrame = () => stdout.frames[stdout.frames.length - 1] ?? '';
  /** Waits until the latest frame satisfies `predicate` (polls; fails after `timeout` ms with the last frame). */
  async function waitForFrame(
    predicate: (frame: string) => boolean,
    timeout = 3000,
  ): Promise<string> {
    const until = Date.now() + timeout;
    for (;;) {
      const f = lastFrame();
      if (predicate(f)) return f;
      if (Date.now() > until) throw new Error(`frame never matched; last frame:\n${f}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }
  /** Writes raw key bytes and lets ink and React process them. */
  async function press(...keys: string[]): Promise<void> {
    for (const k of keys) {
      stdin.write(k);
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  return {
    stdout,
    stdin,
    frames: stdout.frames,
    lastFrame,
    waitForFrame,
    press,
    instance,
    unmount: () => instance.unmount(),
  };
}

export const KEY = {
  up: '\u001B[A',
  down: '\u001B[B',
  enter: '\r',
  esc: '\u001B',
  tab: '\t',
  backspace: '\u007F',
} as const;
