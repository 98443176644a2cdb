// Lint = the import boundaries of docs/DEVELOPING.md, enforced. Only syntax rules (no type
// information), so `npm run lint` stays a few seconds and needs nothing but npm packages.
import { builtinModules } from 'node:module';
import { defineConfig } from 'eslint/config';
import reactHooks from 'eslint-plugin-react-hooks';
import tseslint from 'typescript-eslint';

const CORE = ['engine', 'parse', 'model', 'analysis', 'suggest'];
const CORE_FILES = CORE.map((d) => `src/${d}/**`);
// Bare names too: `import 'fs'` reaches the same module as 'node:fs'.
const NODE = ['node:*', ...builtinModules.filter((m) => !m.startsWith('_') && !m.includes('/'))];

// Only src/cli prints (see the block below). no-restricted-properties cannot name process.stdout.
const NO_PRINT = ['stdout', 'stderr'].map((stream) => ({
  selector: `MemberExpression[object.object.name='process'][object.property.name='${stream}'][property.name='write']`,
  message: 'Only src/cli prints: take a writer or a progress callback from the caller.',
}));

/**
 * One boundary: `folders` of src/ and `modules` (package names) a file may not import, statically
 * or with `import()`. `allow` re-opens files of a forbidden folder by name prefix ('engine/record').
 */
function forbid({ folders = [], modules = [], allow = [], why }) {
  const group = [
    // gitignore rules: a file cannot be re-included once its folder is excluded, so a folder with
    // allowed files is matched by its contents only.
    ...folders.flatMap((f) =>
      allow.some((a) => a.startsWith(`${f}/`)) ? [`**/${f}/**`] : [`**/${f}`, `**/${f}/**`],
    ),
    // A bare name in a gitignore pattern matches any path segment ('path' would catch
    // '../path/x.js'), so bare module names go to `paths` (exact) and only their subpaths here.
    ...modules.flatMap((m) => (m === 'node:*' ? [m] : [`${m}/*`])),
    ...allow.map((a) => `!**/${a}*`),
  ];
  // esquery regexes may not contain '/', hence \x2F.
  const except = (f) =>
    allow.filter((a) => a.startsWith(`${f}/`)).map((a) => a.slice(f.length + 1));
  const dirs = folders.map((f) => {
    const ex = except(f);
    return `\\x2F${f}\\x2F${ex.length ? `(?!${ex.join('|')})` : ''}`;
  });
  const bare = modules.filter((m) => m !== 'node:*');
  if (modules.includes('node:*')) dirs.push('^node:');
  if (bare.length) dirs.push(`^(${bare.join('|')})(\\x2F|$)`);
  return {
    '@typescript-eslint/no-restricted-imports': [
      'error',
      {
        paths: modules.filter((m) => m !== 'node:*').map((name) => ({ name, message: why })),
        patterns: [{ group, message: why }],
      },
    ],
    // no-restricted-imports sees only import/export declarations; a lazy `await import()` is an import too.
    // A later block's no-restricted-syntax replaces an earlier one's, so the print ban is repeated here.
    'no-restricted-syntax': [
      'error',
      ...dirs.map((re) => ({
        selector: `ImportExpression > Literal[value=/${re}/]`,
        message: why,
      })),
      ...NO_PRINT,
    ],
  };
}

export default defineConfig(
  { ignores: ['dist/**', 'node_modules/**', 'fixtures/**', 'probes/**', 'coverage/**'] },
  {
    files: ['**/*.{ts,tsx,mts}'],
    languageOptions: { parser: tseslint.parser, ecmaVersion: 2023, sourceType: 'module' },
    plugins: { '@typescript-eslint': tseslint.plugin },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
  },
  {
    files: ['src/**', 'test/**', 'bench/**', '*.config.*'],
    rules: {
      'no-debugger': 'error',
      'no-var': 'error',
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'no-eval': 'error',
      'no-implied-eval': 'error',
      'no-new-func': 'error',
    },
  },

  // Only cli/ prints, so --json output is never mixed with stray text and the TUI frame never tears.
  // Comes before the boundaries: they repeat NO_PRINT in the no-restricted-syntax they set.
  {
    files: ['src/**'],
    ignores: ['src/cli/**'],
    rules: { 'no-console': 'error', 'no-restricted-syntax': ['error', ...NO_PRINT] },
  },
  // The lab agent is a process of its own; its stdout and stderr are its protocol with the lab.
  {
    files: ['src/lab/agent.ts'],
    rules: { 'no-restricted-syntax': 'off' },
  },

  // The core is pure: text in, values out, time from records. No IO, no processes, no UI, so it
  // runs the same under replay, tests and live sessions.
  {
    files: CORE_FILES,
    rules: forbid({
      folders: ['sources', 'record', 'services', 'apply', 'ui', 'cli', 'host', 'lab'],
      modules: [...NODE, 'execa', 'ink', 'react'],
      why: 'engine/parse/model/analysis/suggest are pure: no host, IO, UI or orchestration (docs/DEVELOPING.md).',
    }),
  },

  // Sources and record see the core only through the record contract, so a new source never
  // reaches into the model and the recording format depends on nothing but RawRecord.
  // Sources still use the probe catalogue and two parsers from parse/ (tracefs format, netlink).
  {
    files: ['src/sources/**'],
    rules: forbid({
      folders: ['engine', 'model', 'analysis', 'suggest', 'services', 'apply', 'ui', 'cli', 'lab'],
      allow: ['engine/record', 'engine/raw-record'],
      why: 'sources import only the record contract of the core (src/engine/record.ts) and parse/.',
    }),
  },
  {
    files: ['src/record/**'],
    rules: forbid({
      folders: [
        'engine',
        'parse',
        'model',
        'analysis',
        'suggest',
        'services',
        'apply',
        'ui',
        'cli',
        'lab',
      ],
      allow: ['engine/record', 'engine/raw-record', 'engine/source-kinds'],
      why: 'record imports only the record contract of the core (src/engine/raw-record.ts, source-kinds.ts).',
    }),
  },

  // Services orchestrate and return data; how it looks is the CLI's and the TUI's business.
  {
    files: ['src/services/**'],
    rules: forbid({
      folders: ['cli', 'ui'],
      why: 'services never import cli/ or ui/: they return data, cli/ presents it.',
    }),
  },

  // The TUI renders what the session store hands it; it never starts tools itself.
  {
    files: ['src/ui/**'],
    rules: forbid({
      folders: ['sources', 'host'],
      modules: ['execa'],
      why: 'ui/ never reaches the host: it renders the session it is given.',
    }),
  },

  // Hooks called conditionally break ink's renders; the source already names exhaustive-deps.
  {
    files: ['src/ui/**/*.tsx', 'src/ui/**/*.ts', 'test/**/*.tsx'],
    plugins: { 'react-hooks': reactHooks },
    rules: { 'react-hooks/rules-of-hooks': 'error', 'react-hooks/exhaustive-deps': 'error' },
  },
);
