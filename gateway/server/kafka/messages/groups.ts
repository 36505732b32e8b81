// Schemas of the consumer-group APIs: FindCoordinator, JoinGroup, SyncGroup, Heartbeat, LeaveGroup,
// OffsetCommit, OffsetFetch, ListGroups, DescribeGroups, DeleteGroups, and the consumer protocol's
// own formats (the subscription and assignment that clients put in JoinGroup's metadata and
// SyncGroup's assignment bytes). Non-flexible versions: the highest ones kafkajs, librdkafka 2.0.2
// and kafka-python pick (README.md in gateway/server/kafka/ lists them).
import { api, array, field } from '../schema.js';

const NULL_STRING = { default: null };

export const FIND_COORDINATOR = api(
  10, 'FindCoordinator', '0-2', '3+',
  [
    field('key', 'string', '0-3'),
    field('keyType', 'int8', '1+'),
  ],
  [
    field('throttleTimeMs', 'int32', '1+'),
    field('errorCode', 'int16', '0-3'),
    field('errorMessage', 'string', '1-3', { nullable: '1-3', ...NULL_STRING }),
    field('nodeId', 'int32', '0-3'),
    field('host', 'string', '0-3'),
    field('port', 'int32', '0-3'),
  ],
);

export const JOIN_GROUP = api(
  11, 'JoinGroup', '0-5', '6+',
  [
    field('groupId', 'string', '0+'),
    field('sessionTimeoutMs', 'int32', '0+'),
    field('rebalanceTimeoutMs', 'int32', '1+', { default: -1 }),
    field('memberId', 'string', '0+'),
    field('groupInstanceId', 'string', '5+', { nullable: '5+', ...NULL_STRING }),
    field('protocolType', 'string', '0+'),
    array('protocols', [field('name', 'string', '0+'), field('metadata', 'bytes', '0+')], '0+'),
  ],
  [
    field('throttleTimeMs', 'int32', '2+'),
    field('errorCode', 'int16', '0+'),
    field('generationId', 'int32', '0+', { default: -1 }),
    field('protocolName', 'string', '0+'),
    field('leader', 'string', '0+'),
    field('memberId', 'string', '0+'),
    array('members', [
      field('memberId', 'string', '0+'),
      field('groupInstanceId', 'string', '5+', { nullable: '5+', ...NULL_STRING }),
      field('metadata', 'bytes', '0+'),
    ], '0+'),
  ],
);

export const SYNC_GROUP = api(
  14, 'SyncGroup', '0-3', '4+',
  [
    field('groupId', 'string', '0+'),
    field('generationId', 'int32', '0+'),
    field('memberId', 'string', '0+'),
    field('groupInstanceId', 'string', '3+', { nullable: '3+', ...NULL_STRING }),
    array('assignments', [field('memberId', 'string', '0+'), field('assignment', 'bytes', '0+')], '0+'),
  ],
  [
    field('throttleTimeMs', 'int32', '1+'),
    field('errorCode', 'int16', '0+'),
    field('assignment', 'bytes', '0+'),
  ],
);

export const HEARTBEAT = api(
  12, 'Heartbeat', '0-3', '4+',
  [
    field('groupId', 'string', '0+'),
    field('generationId', 'int32', '0+'),
    field('memberId', 'string', '0+'),
    field('groupInstanceId', 'string', '3+', { nullable: '3+', ...NULL_STRING }),
  ],
  [field('throttleTimeMs', 'int32', '1+'), field('errorCode', 'int16', '0+')],
);

export const LEAVE_GROUP = api(
  13, 'LeaveGroup', '0-3', '4+',
  [
    field('groupId', 'string', '0+'),
    field('memberId', 'string', '0-2'),
    array('members', [field('memberId', 'string', '3+'), field('groupInstanceId', 'string', '3+', { nullable: '3+', ...NULL_STRING })], '3+'),
  ],
  [
    field('throttleTimeMs', 'int32', '1+'),
    field('errorCode', 'int16', '0+'),
    array('members', [
      field('memberId', 'string', '3+'),
      field('groupInstanceId', 'string', '3+', { nullable: '3+', ...NULL_STRING }),
      field('errorCode', 'int16', '3+'),
    ], '3+'),
  ],
);

export const OFFSET_COMMIT = api(
  8, 'OffsetCommit', '0-7', '8+',
  [
    field('groupId', 'string', '0+'),
    field('generationIdOrMemberEpoch', 'int32', '1+', { default: -1 }),
    field('memberId', 'string', '1+'),
    field('groupInstanceId', 'string', '7+', { nullable: '7+', ...NULL_STRING }),
    field('retentionTimeMs', 'int64', '2-4', { default: -1 }),
    array('topics', [
      field('name', 'string', '0+'),
      array('partitions', [
        field('partitionIndex', 'int32', '0+'),
        field('committedOffset', 'int64', '0+'),
        field('committedLeaderEpoch', 'int32', '6+', { default: -1 }),
        field('commitTimestamp', 'int64', '1', { default: -1 }),
        field('committedMetadata', 'string', '0+', { nullable: '0+', ...NULL_STRING }),
      ], '0+'),
    ], '0+'),
  ],
  [
    field('throttleTimeMs', 'int32', '3+'),
    array('topics', [field('name', 'string', '0+'), array('partitions', [field('partitionIndex', 'int32', '0+'), field('errorCode', 'int16', '0+')], '0+')], '0+'),
  ],
);

export const OFFSET_FETCH = api(
  9, 'OffsetFetch', '0-5', '6+',
  [
    field('groupId', 'string', '0-7'),
    array('topics', [field('name', 'string', '0-7'), array('partitionIndexes', 'int32', '0-7')], '0-7', { nullable: '2-7' }),
  ],
  [
    field('throttleTimeMs', 'int32', '3+'),
    array('topics', [
      field('name', 'string', '0-7'),
      array('partitions', [
        field('partitionIndex', 'int32', '0-7'),
        field('committedOffset', 'int64', '0-7'),
        field('committedLeaderEpoch', 'int32', '5-7', { default: -1 }),
        field('metadata', 'string', '0-7', { nullable: '0-7', ...NULL_STRING }),
        field('errorCode', 'int16', '0-7'),
      ], '0-7'),
    ], '0-7'),
    field('errorCode', 'int16', '2-7'),
  ],
);

export const LIST_GROUPS = api(
  16, 'ListGroups', '0-2', '3+',
  [],
  [
    field('throttleTimeMs', 'int32', '1+'),
    field('errorCode', 'int16', '0+'),
    array('groups', [field('groupId', 'string', '0+'), field('protocolType', 'string', '0+')], '0+'),
  ],
);

export const DESCRIBE_GROUPS = api(
  15, 'DescribeGroups', '0-4', '5+',
  [
    array('groups', 'string', '0+'),
    field('includeAuthorizedOperations', 'bool', '3+'),
  ],
  [
    field('throttleTimeMs', 'int32', '1+'),
    array('groups', [
      field('errorCode', 'int16', '0+'),
      field('groupId', 'string', '0+'),
      field('groupState', 'string', '0+'),
      field('protocolType', 'string', '0+'),
      field('protocolData', 'string', '0+'),
      array('members', [
        field('memberId', 'string', '0+'),
        field('groupInstanceId', 'string', '4+', { nullable: '4+', ...NULL_STRING }),
        field('clientId', 'string', '0+'),
        field('clientHost', 'string', '0+'),
        field('memberMetadata', 'bytes', '0+'),
        field('memberAssignment', 'bytes', '0+'),
      ], '0+'),
      field('authorizedOperations', 'int32', '3+', { default: -2147483648 }),
    ], '0+'),
  ],
);

export const DELETE_GROUPS = api(
  42, 'DeleteGroups', '0-1', '2+',
  [array('groupsNames', 'string', '0+')],
  [
    field('throttleTimeMs', 'int32', '0+'),
    array('results', [field('groupId', 'string', '0+'), field('errorCode', 'int16', '0+')], '0+'),
  ],
);

// The consumer protocol (Kafka's ConsumerProtocolSubscription and ConsumerProtocolAssignment): a
// version (int16) and then these fields, never flexible. Only read, to show a Kafka member's topics
// and partitions in describe, lag and `seglog groups describe`; the bytes are relayed as sent.

export const CONSUMER_SUBSCRIPTION = [
  array('topics', 'string', '0+'),
  field('userData', 'bytes', '0+', { nullable: '0+' }),
  array('ownedPartitions', [field('topic', 'string', '1+'), array('partitions', 'int32', '1+')], '1+'),
];

export const CONSUMER_ASSIGNMENT = [
  array('assignedPartitions', [field('topic', 'string', '0+'), array('partitions', 'int32', '0+')], '0+'),
  field('userData', 'bytes', '0+', { nullable: '0+' }),
];
