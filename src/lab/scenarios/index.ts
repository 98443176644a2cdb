// Every lab scenario, in the order `kdiag lab list` shows them.
import { closeWaitExpiry } from './close-wait-expiry.js';
import { conntrackExpiry, IPV6_CONNTRACK_EXPIRY } from './conntrack-expiry.js';
import { expiryLoose0 } from './expiry-loose0.js';
import { keepaliveSaves } from './keepalive-saves.js';
import { middleboxIdleDrop } from './middlebox-idle-drop.js';
import { outOfWindow, outOfWindowBeLiberal, outOfWindowNoDrop } from './out-of-window.js';
import { serverPushAfterExpiry } from './server-push-after-expiry.js';
import { tableNearFull } from './table-near-full.js';
import { unackedClamp } from './unacked-clamp.js';
import { CT_TIMEOUT_RAISED } from './ct-timeout-raised.js';
import { EXPIRED_SEEN_IDLE } from './expired-seen-idle.js';
import { KEEPALIVE_SERVER_ONLY } from './keepalive-server-only.js';
import { KEEPALIVE_INTERVAL_ABOVE, KEEPALIVE_NETNS_BELOW } from './keepalive-netns-interval.js';
import type { ScenarioDef } from './types.js';

/** The scenarios runScenario knows. */
export const SCENARIOS: readonly ScenarioDef[] = [
  conntrackExpiry,
  expiryLoose0,
  serverPushAfterExpiry,
  keepaliveSaves,
  outOfWindow,
  outOfWindowNoDrop,
  outOfWindowBeLiberal,
  closeWaitExpiry,
  tableNearFull,
  middleboxIdleDrop,
  unackedClamp,
  CT_TIMEOUT_RAISED,
  KEEPALIVE_SERVER_ONLY,
  EXPIRED_SEEN_IDLE,
  KEEPALIVE_INTERVAL_ABOVE,
  KEEPALIVE_NETNS_BELOW,
  IPV6_CONNTRACK_EXPIRY,
];
