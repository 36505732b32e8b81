// Full disk, end to end, on real small filesystems (root only; skipped with a message elsewhere):
// a tmpfs, and ext4 with 1 KiB blocks (a block smaller than a page). `seglog serve` runs as a child
// on the mounted directory; the client fills the disk until produce answers DISK_FULL, then:
//   - the server is alive (no SIGBUS), a one-record `flushed` produce and a new topic answer DISK_FULL;
//   - kill -9 and restart while full (twice): the server comes up and serves every acked record;
//   - space is freed: produce works again without a restart;
//   - filled again, a graceful stop exits 0, and a restart finds every acked record intact.
// Every acknowledged record is checked by content at its offset after each restart.
import test, { type ExecutionContext } from 'ava';
import { SeglogClient } from '../../gateway/client/client.js';
import { startServe, stopServe, type ServeProcess } from '../helpers/gateway-process.js';
import { cannotMountReason, mountSmallFs, type SmallFs, type SmallFsKind } from '../helpers/small-fs.js';

const FS_BYTES = 24 * 1024 * 1024;
const SLACK_BYTES = 2 * 1024 * 1024;
const TOPIC = 'full';
const PARTITIONS = 2;
const RECORD_BYTES = 1000;
const RECORDS_PER_BATCH = 50;
/** Bound on batches sent while filling (the filesystem holds far fewer). */
const FILL_BATCHES_MAX = 2000;

/** test.serial where the filesystem can be mounted, else a skip that says why. */
function onFs(kind: SmallFsKind): typeof test.serial | typeof test.skip {
  const reason = cannotMountReason(kind);
  if (reason === null) return test.serial;
  console.log(`full-disk fault test on ${kind} skipped: ${reason}`);
  return test.skip;
}

const utf8 = new TextDecoder();

/** Acknowledged records: per partition, offset → value. */
type Acked = Map<number, Map<number, string>>;

function valueFor(partition: number, n: number): string {
  return `p${partition}-${n}-`.padEnd(RECORD_BYTES, String.fromCharCode(97 + (n % 26)));
}

async function connect(server: ServeProcess): Promise<SeglogClient> {
  return SeglogClient.connect(server.url, { requestTimeoutMs: 30_000, reconnect: false });
}

let counter = 0;

/** Sends batches round robin until one is refused; returns the refusal's code. Bounded. */
async function fillUntilRefused(client: SeglogClient, acked: Acked, acks: 'written' | 'flushed', perBatch = RECORDS_PER_BATCH): Promise<string> {
  for (let i = 0; i < FILL_BATCHES_MAX; i++) {
    const partition = i % PARTITIONS;
    const values = Array.from({ length: perBatch }, () => valueFor(partition, counter++));
    try {
      const meta = await client.sendBatch(TOPIC, values.map((value) => ({ value })), { partition, acks });
      values.forEach((v, k) => acked.get(partition)!.set(meta.baseOffset + k, v));
    } catch (e) {
      return (e as { code?: string }).code ?? String(e);
    }
  }
  return 'never refused';
}

/** Every acked record is there with its content; returns the number checked. */
async function checkAcked(t: ExecutionContext, client: SeglogClient, acked: Acked): Promise<number> {
  let checked = 0;
  for (const [partition, records] of acked) {
    const end = records.size === 0 ? 0 : Math.max(...records.keys()) + 1;
    let offset = 0;
    const seen = new Map<number, string>();
    // Bounded: every fetch returns at least one record until the end.
    for (let i = 0; i < end + 1 && offset < end; i++) {
      const res = await client.fetch(TOPIC, partition, offset, { maxBytes: 1 << 20 });
      if (res.records.length === 0) break;
      for (const r of res.records) seen.set(r.offset, utf8.decode(r.value!));
      offset = res.nextOffset;
    }
    for (const [off, value] of records) {
      if (seen.get(off) !== value) {
        t.fail(`partition ${partition} offset ${off}: expected its acked value, got ${seen.get(off)?.slice(0, 20) ?? 'nothing'}`);
        return checked;
      }
      checked++;
    }
  }
  t.pass();
  return checked;
}

function alive(server: ServeProcess): boolean {
  return server.child.exitCode === null && server.child.signalCode === null;
}

async function scenario(t: ExecutionContext, kind: SmallFsKind): Promise<void> {
  const small: SmallFs = mountSmallFs(kind, FS_BYTES, SLACK_BYTES);
  const servers: ServeProcess[] = [];
  t.teardown(() => {
    for (const s of servers) if (alive(s)) s.child.kill('SIGKILL');
    small.unmount();
  });
  const dir = `${small.mountPoint}/data`;
  const start = async (): Promise<{ server: ServeProcess; client: SeglogClient }> => {
    const server = await startServe(dir, [], 30_000);
    servers.push(server);
    return { server, client: await connect(server) };
  };
  const acked: Acked = new Map(Array.from({ length: PARTITIONS }, (_, p) => [p, new Map<number, string>()]));

  let { server, client } = await start();
  await client.createTopic(TOPIC, { partitions: PARTITIONS, segmentBytes: 1024 * 1024 });
  t.is(await fillUntilRefused(client, acked, 'written'), 'DISK_FULL', 'filling with acks written ends in DISK_FULL');
  t.true(alive(server), `server alive after DISK_FULL: ${server.output()}`);
  t.is(await fillUntilRefused(client, acked, 'flushed'), 'DISK_FULL', 'a flushed produce on a full disk is DISK_FULL');
  // One-record flushed produces until the last page is used up (the ext4 1 KiB case died here).
  t.is(await fillUntilRefused(client, acked, 'flushed', 1), 'DISK_FULL', 'one-record flushed produces end in DISK_FULL');
  t.true(alive(server), `server alive after one-record produces: ${server.output()}`);
  const created = await client.createTopic('another', { partitions: 1 }).then(() => 'ok', (e) => e.code);
  t.true(created === 'DISK_FULL' || created === 'ok', `createTopic on a full disk: ${created}`);
  const committed = await client.commit('g', TOPIC, 0, 1).then(() => 'ok', (e) => e.code);
  t.true(committed === 'DISK_FULL' || committed === 'ok', `commit on a full disk: ${committed}`);
  t.log(`${kind}: on the full disk createTopic answered ${created}, commit ${committed}`);
  t.true(alive(server));
  t.log(`${kind}: ${[...acked.values()].reduce((n, m) => n + m.size, 0)} records acked before the disk was full`);

  // kill -9 while full, twice; each restart must come up and serve everything acked.
  for (let round = 0; round < 2; round++) {
    await client.close();
    const killed = await stopServe(server, 'SIGKILL');
    t.is(killed.signal, 'SIGKILL');
    ({ server, client } = await start());
    t.true(alive(server), `restart ${round + 1} on a full disk came up`);
    t.true((await checkAcked(t, client, acked)) > 0);
    const refill = await fillUntilRefused(client, acked, round === 0 ? 'written' : 'flushed');
    t.is(refill, 'DISK_FULL');
    t.true(alive(server), `alive after refilling: ${server.output()}`);
  }

  // Space comes back: produce works again, with no restart.
  small.freeSlack();
  const again = await client.sendBatch(TOPIC, [{ value: valueFor(1, counter) }], { partition: 1, acks: 'flushed' });
  acked.get(1)!.set(again.baseOffset, valueFor(1, counter++));
  t.is(await fillUntilRefused(client, acked, 'written'), 'DISK_FULL');

  // A graceful stop on a full disk exits 0; everything acked is intact afterwards.
  await client.close();
  const stopped = await stopServe(server, 'SIGTERM');
  t.deepEqual(stopped, { code: 0, signal: null }, server.output());
  ({ server, client } = await start());
  const checked = await checkAcked(t, client, acked);
  t.log(`${kind}: ${checked} acked records checked after 2 kill -9 restarts and a graceful stop on a full disk`);
  await client.close();
  t.deepEqual(await stopServe(server, 'SIGTERM'), { code: 0, signal: null });
}

onFs('tmpfs')('full tmpfs: no SIGBUS, DISK_FULL, restart while full, produce after space is freed, clean stop', (t) => scenario(t, 'tmpfs'));
onFs('ext4-1k')('full ext4 with 1 KiB blocks: the same, with pages larger than blocks', (t) => scenario(t, 'ext4-1k'));
