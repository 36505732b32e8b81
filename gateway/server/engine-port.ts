// The part of the engine API (engine/index.ts) the gateway uses. Written as an interface so the
// gateway depends on the engine's contract, not its internals; `Engine` satisfies it structurally.
import type {
  Acks,
  BatchAppendResult,
  ClassicAssignment,
  ClassicJoinOptions,
  ClassicJoinResult,
  ClassicMemberDescription,
  CommittedOffset,
  GroupDescription,
  GroupListing,
  JoinGroupOptions,
  JoinGroupResult,
  MemberAssignment,
  ResetTarget,
  OffsetRange,
  PartitionRecovery,
  RawBatchRead,
  TopicConfig,
  TopicDescription,
} from '../../engine/index.js';

export interface GatewayEngine {
  createTopic(name: string, config?: Partial<TopicConfig>): Promise<TopicDescription>;
  listTopics(): string[];
  describeTopic(name: string): TopicDescription;
  deleteTopic(name: string): Promise<void>;
  addPartitions(name: string, totalPartitions: number): Promise<TopicDescription>;
  appendBatch(topic: string, batch: Uint8Array, options?: { partition?: number; acks?: Acks }): Promise<BatchAppendResult>;
  readBatches(topic: string, partition: number, offset: number, options?: { maxBytes?: number }): RawBatchRead;
  /** A new idempotent producer id (Kafka's InitProducerId). */
  initProducerId(): { producerId: number; producerEpoch: number };
  offsets(topic: string, partition: number): OffsetRange;
  offsetForTimestamp(topic: string, partition: number, timestamp: number): number | null;
  watch(topic: string, partition: number, listener: () => void): () => void;
  /** Calls `listener` with the new partition numbers after addPartitions grew the topic. */
  onPartitionsAdded(topic: string, listener: (partitions: number[]) => void): () => void;
  commit(group: string, topic: string, partition: number, offset: number): Promise<void>;
  committed(group: string, topic: string, partition: number): Promise<number | null>;
  joinGroup(group: string, options: JoinGroupOptions, listener: (a: MemberAssignment) => void): Promise<JoinGroupResult>;
  heartbeatGroup(group: string, memberId: string, memberEpoch: number): { memberEpoch: number; heartbeatIntervalMs: number };
  leaveGroup(group: string, memberId: string): void;
  commitAsMember(group: string, memberId: string, memberEpoch: number, topic: string, offsets: ReadonlyArray<{ partition: number; offset: number }>): Promise<void>;
  listCommitted(group: string): Promise<CommittedOffset[]>;
  joinClassicGroup(group: string, options: ClassicJoinOptions): Promise<ClassicJoinResult>;
  syncClassicGroup(group: string, memberId: string, generation: number, assignments: readonly ClassicAssignment[] | null): Promise<Uint8Array>;
  heartbeatClassicGroup(group: string, memberId: string, generation: number): void;
  leaveClassicGroup(group: string, memberId: string): void;
  describeClassicGroup(group: string): { state: string; protocolName: string; members: ClassicMemberDescription[] } | null;
  listGroups(): GroupListing[];
  describeGroup(group: string): GroupDescription;
  resetGroupOffsets(group: string, topic: string, to: ResetTarget): Promise<Array<{ partition: number; offset: number }>>;
  deleteGroup(group: string): Promise<void>;
  /** Optional: recovery reporting and opening every partition at start (Engine has them). */
  recoveryReports?(): PartitionRecovery[];
  onRecovery?(listener: (report: PartitionRecovery) => void): () => void;
  openAllPartitions?(): Promise<number>;
}
