// Publishing to a JetStream stream without the client's js.publish: plain publishes carrying a
// reply inbox, the stream's acks counted as they arrive on it (in order). What the server takes
// when the per-message cost of js.publish (a promise and an error object each) is left out.
import { createInbox, type NatsConnection } from 'nats';

/** Plain publishes with a reply inbox: the stream's acks arrive on the inbox in order. */
export function inboxPublisher(nc: NatsConnection, subject: string): { send: (value: Uint8Array) => Promise<void>; close: () => void } {
  const inbox = createInbox();
  const waiting: Array<() => void> = [];
  const sub = nc.subscribe(inbox, { callback: () => waiting.shift()?.() });
  return {
    send: (value) =>
      new Promise<void>((resolve) => {
        waiting.push(resolve);
        nc.publish(subject, value, { reply: inbox });
      }),
    close: () => sub.unsubscribe(),
  };
}

