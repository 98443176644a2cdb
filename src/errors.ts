// The error family. Only cli/main.ts turns these into output and exit codes.

export type ErrorCode =
  | 'KDIAG_USAGE'
  | 'KDIAG_NOT_ROOT'
  | 'KDIAG_TOOL_MISSING'
  | 'KDIAG_TOOL_FAILED'
  | 'KDIAG_BAD_INPUT'
  | 'KDIAG_UNSUPPORTED_VERSION'
  | 'KDIAG_ENVIRONMENT'
  | 'KDIAG_REFUSED'
  | 'KDIAG_APPLY_FAILED'
  | 'KDIAG_BUG';

export class KdiagError extends Error {
  readonly code: ErrorCode;
  readonly exitCode: number;
  readonly hint: string | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    opts: { hint?: string; exitCode?: number; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.code = code;
    this.exitCode = opts.exitCode ?? 2;
    this.hint = opts.hint;
  }
}

/** Bad flags or arguments. */
export class UsageError extends KdiagError {
  constructor(message: string, hint?: string) {
    super('KDIAG_USAGE', message, hint === undefined ? {} : { hint });
  }
}

/** Input that cannot be read: names the file and, where known, the line. */
export class InputError extends KdiagError {
  readonly file: string;
  readonly line: number | undefined;
  constructor(
    file: string,
    line: number | undefined,
    message: string,
    opts: { hint?: string; code?: ErrorCode } = {},
  ) {
    super(
      opts.code ?? 'KDIAG_BAD_INPUT',
      `${file}${line === undefined ? '' : `:${line}`}: ${message}`,
      opts.hint === undefined ? {} : { hint: opts.hint },
    );
    this.file = file;
    this.line = line;
  }
}

/** Expected, and the user can act on it (not root, tool missing, tracefs not mounted). Always has a hint. */
export class EnvironmentError extends KdiagError {
  constructor(code: ErrorCode, message: string, hint: string) {
    super(code, message, { hint });
  }
}

/** An external command failed. */
export class ToolFailedError extends KdiagError {
  readonly argv: readonly string[];
  readonly toolExitCode: number | undefined;
  readonly stderrTail: string;
  constructor(
    argv: readonly string[],
    toolExitCode: number | undefined,
    stderrTail: string,
    cause?: unknown,
  ) {
    const tail = stderrTail.trim().split('\n').slice(-1)[0] ?? '';
    super(
      'KDIAG_TOOL_FAILED',
      `${argv.join(' ')} failed${toolExitCode === undefined ? '' : ` (exit ${toolExitCode})`}${tail ? `: ${tail}` : ''}`,
      cause === undefined ? {} : { cause },
    );
    this.argv = argv;
    this.toolExitCode = toolExitCode;
    this.stderrTail = stderrTail;
  }
}

/** An invariant broke: print the stack and ask for a report. */
export class BugError extends KdiagError {
  constructor(message: string, cause?: unknown) {
    super('KDIAG_BUG', message, cause === undefined ? { exitCode: 70 } : { exitCode: 70, cause });
  }
}
