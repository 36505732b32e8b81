// Producer ids for idempotent producers (Kafka's InitProducerId), never handed out twice by one
// data directory, across clean stops and crashes alike: a block of ids is reserved by writing its
// end to `producer-ids.checkpoint` (checkpoint-file.ts: temp file, fdatasync, rename; in place on a
// full disk) before the first id of the block is given out. A restart continues after the last
// reserved block, so ids given out before a crash are skipped, never repeated. One durable write per
// `producerIdBlockSize` ids keeps InitProducerId cheap.
import path from 'node:path';
import { readCheckpoint, writeCheckpointSync } from './checkpoint-file.js';
import { PRODUCER_STATE_LIMITS } from './limits.js';

export const PRODUCER_IDS_FILE = 'producer-ids.checkpoint';

export class ProducerIds {
  private readonly file: string;
  private next: number;
  /** Ids below this are reserved on disk. */
  private reservedEnd: number;

  constructor(dir: string) {
    this.file = path.join(dir, PRODUCER_IDS_FILE);
    this.next = readCheckpoint(this.file) ?? 0;
    this.reservedEnd = this.next;
  }

  /** A new producer id; DISK_FULL / IO_ERROR (and no id) when the reservation cannot be written. */
  allocate(): number {
    if (this.next >= this.reservedEnd) {
      const end = this.next + PRODUCER_STATE_LIMITS.producerIdBlockSize;
      writeCheckpointSync(this.file, end);
      this.reservedEnd = end;
    }
    return this.next++;
  }
}
