import { it } from 'vitest';
import { renderToString } from 'ink';
import { App } from '../../src/ui/app.js';
import { createFakeStore } from './helpers/fake-store.js';
import { testSnapshot } from './helpers/test-data.js';
import { renderTui, KEY } from './helpers/render.js';
it('scratch', async () => {
  process.env.TZ = 'UTC';
  const store = createFakeStore(testSnapshot());
  for (const c of [80, 120]) console.log(renderToString(<App store={store} columns={c} rows={24} />, { columns: c }));
  const t = renderTui(<App store={store} columns={80} rows={24} throttleMs={0} />);
  await t.press(KEY.tab, KEY.tab, KEY.enter);
  console.log(t.lastFrame());
  await t.press(KEY.down, KEY.down, KEY.down, KEY.enter);
  console.log(t.lastFrame());
  await t.press(KEY.esc);
  console.log(t.lastFrame());
  t.unmount();
});
