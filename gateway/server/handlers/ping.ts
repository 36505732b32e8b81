// PING: answered with the server's clock.
import { encodePong } from '../../protocol/ping.js';
import type { Handler } from './context.js';

export const handlePing: Handler = (ctx, id, r) => {
  r.end();
  ctx.sendFrame(encodePong(id, Date.now()));
};
