// A fake terminal for renderApp: stdout that swallows frames, stdin whose keys are typed with type().
import { EventEmitter } from 'node:events';

export function fakeTty() {
  const stdout = Object.assign(new EventEmitter(), {
    isTTY: true,
    columns: 80,
    rows: 24,
    write: () => true,
  });
  const queue: string[] = [];
  const stdin = Object.assign(new EventEmitter(), {
    isTTY: true,
    read: () => queue.shift() ?? null,
    setEncoding() {},
    setRawMode() {},
    resume() {},
    pause() {},
    ref() {},
    unref() {},
  });
  /** Queues one key and tells ink it can read. */
  const type = (key: string): void => {
    queue.push(key);
    stdin.emit('readable');
  };
  return {
    stdout: stdout as never as NodeJS.WriteStream,
    stdin: stdin as never as NodeJS.ReadStream,
    raw: stdin,
    type,
  };
}
