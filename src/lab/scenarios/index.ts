// The scenarios with a file each, in the order `kdiag lab list` shows them (after the older ones).
import type { ScenarioDef } from '../scenario-kit.js';
import { CT_TIMEOUT_RAISED } from './ct-timeout-raised.js';
import { EXPIRED_SEEN_IDLE } from './expired-seen-idle.js';
import { KEEPALIVE_SERVER_ONLY } from './keepalive-server-only.js';

export const NEW_SCENARIOS: readonly ScenarioDef[] = [CT_TIMEOUT_RAISED, KEEPALIVE_SERVER_ONLY, EXPIRED_SEEN_IDLE];
