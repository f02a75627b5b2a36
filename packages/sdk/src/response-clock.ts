// The clock on the way back. A request's `ariadne-clock` header orders the
// server's work after the client's; without the reply carrying the server's
// clock, the client's code after `await fetch(...)` would look concurrent with
// everything the server did (and two services touching the same row would look
// like a race). So servers add `ariadne-clock` to their responses and clients
// merge it into the calling task, through the official instrumentations'
// responseHook — the same way W3C Trace Context Level 2 adds `traceresponse`.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { context, type Span } from '@opentelemetry/api';
import { ARIADNE_CLOCK_HEADER, decodeClockHeader, encodeClockHeader } from './clock-propagator.js';
import { requestTasks, taskOf } from './clock.js';

function mergeInto(span: Span, value: unknown): void {
  const task = requestTasks.get(span);
  if (task === undefined) return;
  const values = Array.isArray(value) ? value : [value];
  for (const v of values) {
    const p = decodeClockHeader(v);
    if (p !== undefined) task.merge(p.clock);
  }
}

function isServerResponse(r: unknown): r is ServerResponse {
  return typeof (r as ServerResponse).setHeader === 'function' && typeof (r as ServerResponse).writeHead === 'function';
}

/** Server side: stamp the handling task's clock on the response when its headers go out. */
function stampResponse(res: ServerResponse): void {
  const task = taskOf(context.active());
  const writeHead = res.writeHead;
  res.writeHead = function (this: ServerResponse, ...args: unknown[]) {
    try {
      if (!this.headersSent && !this.hasHeader(ARIADNE_CLOCK_HEADER)) {
        task.tick();
        this.setHeader(ARIADNE_CLOCK_HEADER, encodeClockHeader({ service: task.identity.service, instance: task.identity.instance, clock: task.entries() }));
      }
    } catch {
      // headers in a form we cannot add to: send the response without the clock
    }
    return (writeHead as (...a: unknown[]) => ServerResponse).apply(this, args);
  } as ServerResponse['writeHead'];
}

/** responseHook for HttpInstrumentation: incoming requests get a stamped response, outgoing ones merge the reply's clock. */
export function httpResponseHook(span: Span, response: IncomingMessage | ServerResponse): void {
  if (isServerResponse(response)) stampResponse(response);
  else mergeInto(span, response.headers[ARIADNE_CLOCK_HEADER]);
}

/** responseHook for UndiciInstrumentation (fetch): raw headers are [name, value, name, value...] buffers. */
export function undiciResponseHook(span: Span, info: { response: { headers: Array<Buffer | string> } }): void {
  const h = info.response.headers;
  for (let i = 0; i + 1 < h.length; i += 2) {
    if (String(h[i]).toLowerCase() === ARIADNE_CLOCK_HEADER) mergeInto(span, String(h[i + 1]));
  }
}
