// kdiag replay: placeholder registration until the replay service lands (lead's file).
import type { Command } from 'commander';

export function registerReplay(_program: Command): void {}
