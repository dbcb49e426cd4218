// Unit test of the activities' polling pause: it leaves no abort listener behind (a long snapshot polls thousands of times on one signal).
import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { pause } from './pause.ts';

describe('pause', () => {
  it('removes its abort listener when the time is up', async () => {
    const controller = new AbortController();
    for (let i = 0; i < 12; i++) await pause(1, controller.signal);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('ends early when the activity is cancelled', async () => {
    const controller = new AbortController();
    const paused = pause(60_000, controller.signal);
    controller.abort();
    await expect(paused).resolves.toBeUndefined();
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });
});
