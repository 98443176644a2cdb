// Main script of the single executable (Node's SEA, which in Node 20 runs one CommonJS script).
// kdiag itself is an ESM bundle split into chunks (ink/yoga use top-level await, and `--help`
// must not load React): the chunks and probes are SEA assets, written to a private directory
// (mkdtemp: mode 0700) that goes away when the process ends, and imported from there. The
// directory mirrors the npm package (dist/src/…, probes/) so kdiag finds its probes as it does
// when installed with npm.
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const sea = require('node:sea');
const { pathToFileURL } = require('node:url');

// The hidden command the lab uses to start its traffic agents from this same executable.
const AGENT_COMMAND = '__lab-agent';

const manifest = JSON.parse(sea.getAsset('manifest.json', 'utf8'));
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kdiag-'));

function cleanup() {
  fs.rmSync(dir, { recursive: true, force: true });
}
process.on('exit', cleanup);
// A signal nobody else handles ends the process without 'exit': clean up, then die of it as before.
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, function onSignal() {
    if (process.listenerCount(sig) > 1) return;
    cleanup();
    process.removeListener(sig, onSignal);
    process.kill(process.pid, sig);
  });
}

const made = new Set();
for (const file of manifest.files) {
  const target = path.join(dir, file);
  const parent = path.dirname(target);
  if (!made.has(parent)) {
    fs.mkdirSync(parent, { recursive: true, mode: 0o700 });
    made.add(parent);
  }
  fs.writeFileSync(target, new Uint8Array(sea.getRawAsset(file)), { mode: 0o400 });
}

// The SEA main script has no import() of its own (nor a require beyond built-ins); a CommonJS file
// read from disk has both, so a one-line loader next to the chunks does the importing.
const loader = path.join(dir, 'load.cjs');
fs.writeFileSync(loader, 'module.exports = (url) => import(url);\n', { mode: 0o400 });
const load = require('node:module').createRequire(loader)(loader);

// In a single executable argv[1] repeats argv[0]; kdiag's argument parsing expects a script there.
const args = process.argv.slice(2);
let started;
if (args[0] === AGENT_COMMAND) {
  const agent = path.join(dir, manifest.agent);
  // The agent runs itself when argv[1] is its own file, as `node agent.js ROLE …` would.
  process.argv = [process.argv[0], agent, ...args.slice(1)];
  // The agent imports nothing later, and the lab ends it with SIGKILL when the parent dies
  // (setpriv --pdeathsig), which no exit handler sees: its copy goes as soon as it is loaded.
  started = load(pathToFileURL(agent).href).then(cleanup);
} else {
  started = load(pathToFileURL(path.join(dir, manifest.main)).href).then((m) => m.main([process.argv[0], process.argv[0], ...args]));
}
started.catch((err) => {
  process.stderr.write(`kdiag: can't start: ${err && err.message}\n`);
  process.exitCode = 2;
});
