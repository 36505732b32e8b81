// The request handlers by frame type, one module per frame family (as gateway/protocol/).
import { FrameType } from '../../protocol/frame.js';
import { handleAddPartitions, handleCreateTopic, handleDeleteTopic, handleDescribeTopic, handleListTopics } from './admin.js';
import type { Handler } from './context.js';
import { handleFetch } from './fetch.js';
import {
  handleDeleteGroup,
  handleDescribeGroup,
  handleGroupCommit,
  handleGroupHeartbeat,
  handleGroupJoin,
  handleGroupLeave,
  handleListGroups,
  handleResetGroup,
} from './groups.js';
import { handleCommit, handleCommitted, handleOffsets } from './offsets.js';
import { handlePing } from './ping.js';
import { handleProduce } from './produce.js';
import { handleCredit, handleSubscribe, handleUnsubscribe } from './subscribe.js';

export type { Handler, RequestContext, SessionSubscriptions } from './context.js';

/** Indexed by frame type (a u8); HELLO is the session's own (it changes the connection's state). */
export const HANDLERS: ReadonlyArray<Handler | undefined> = (() => {
  const table: Array<Handler | undefined> = new Array(256).fill(undefined);
  table[FrameType.PRODUCE] = handleProduce;
  table[FrameType.SUBSCRIBE] = handleSubscribe;
  table[FrameType.CREDIT] = handleCredit;
  table[FrameType.UNSUBSCRIBE] = handleUnsubscribe;
  table[FrameType.FETCH] = handleFetch;
  table[FrameType.COMMIT] = handleCommit;
  table[FrameType.COMMITTED] = handleCommitted;
  table[FrameType.OFFSETS] = handleOffsets;
  table[FrameType.CREATE_TOPIC] = handleCreateTopic;
  table[FrameType.LIST_TOPICS] = handleListTopics;
  table[FrameType.DESCRIBE_TOPIC] = handleDescribeTopic;
  table[FrameType.DELETE_TOPIC] = handleDeleteTopic;
  table[FrameType.ADD_PARTITIONS] = handleAddPartitions;
  table[FrameType.PING] = handlePing;
  table[FrameType.GROUP_JOIN] = handleGroupJoin;
  table[FrameType.GROUP_HEARTBEAT] = handleGroupHeartbeat;
  table[FrameType.GROUP_LEAVE] = handleGroupLeave;
  table[FrameType.GROUP_COMMIT] = handleGroupCommit;
  table[FrameType.LIST_GROUPS] = handleListGroups;
  table[FrameType.DESCRIBE_GROUP] = handleDescribeGroup;
  table[FrameType.RESET_GROUP] = handleResetGroup;
  table[FrameType.DELETE_GROUP] = handleDeleteGroup;
  return table;
})();
