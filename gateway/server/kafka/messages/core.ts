// Schemas of the data-path APIs: ApiVersions, Metadata, Produce, Fetch, ListOffsets. Field names,
// types and version ranges follow Apache Kafka's message definitions (gateway/server/kafka/README.md
// says which versions we serve and why); fields of versions beyond ours are kept where they are
// cheap, so serving a further version is mostly a change of the `versions` argument.
import { api, array, field } from '../schema.js';

const NULL_STRING = { default: null };

export const API_VERSIONS = api(
  18, 'ApiVersions', '0-3', '3+',
  [
    field('clientSoftwareName', 'string', '3+'),
    field('clientSoftwareVersion', 'string', '3+'),
  ],
  [
    field('errorCode', 'int16', '0+'),
    array('apiKeys', [field('apiKey', 'int16', '0+'), field('minVersion', 'int16', '0+'), field('maxVersion', 'int16', '0+')], '0+'),
    field('throttleTimeMs', 'int32', '1+'),
  ],
);

const BROKER = [
  field('nodeId', 'int32', '0+'),
  field('host', 'string', '0+'),
  field('port', 'int32', '0+'),
  field('rack', 'string', '1+', { nullable: '1+', ...NULL_STRING }),
];

const METADATA_PARTITION = [
  field('errorCode', 'int16', '0+'),
  field('partitionIndex', 'int32', '0+'),
  field('leaderId', 'int32', '0+'),
  field('leaderEpoch', 'int32', '7+', { default: -1 }),
  array('replicaNodes', 'int32', '0+'),
  array('isrNodes', 'int32', '0+'),
  array('offlineReplicas', 'int32', '5+'),
];

export const METADATA = api(
  3, 'Metadata', '0-8', '9+',
  [
    array('topics', [field('topicId', 'uuid', '10+'), field('name', 'string', '0+', { nullable: '10+' })], '0+', { nullable: '1+', default: null }),
    field('allowAutoTopicCreation', 'bool', '4+', { default: true }),
    field('includeClusterAuthorizedOperations', 'bool', '8-10'),
    field('includeTopicAuthorizedOperations', 'bool', '8+'),
  ],
  [
    field('throttleTimeMs', 'int32', '3+'),
    array('brokers', BROKER, '0+'),
    field('clusterId', 'string', '2+', { nullable: '2+', ...NULL_STRING }),
    field('controllerId', 'int32', '1+', { default: -1 }),
    array('topics', [
      field('errorCode', 'int16', '0+'),
      field('name', 'string', '0+', { nullable: '12+' }),
      field('topicId', 'uuid', '10+'),
      field('isInternal', 'bool', '1+'),
      array('partitions', METADATA_PARTITION, '0+'),
      field('topicAuthorizedOperations', 'int32', '8+', { default: -2147483648 }),
    ], '0+'),
    field('clusterAuthorizedOperations', 'int32', '8-10', { default: -2147483648 }),
  ],
);

export const PRODUCE = api(
  0, 'Produce', '0-8', '9+',
  [
    field('transactionalId', 'string', '3+', { nullable: '3+', ...NULL_STRING }),
    field('acks', 'int16', '0+'),
    field('timeoutMs', 'int32', '0+'),
    array('topicData', [
      field('name', 'string', '0+'),
      array('partitionData', [field('index', 'int32', '0+'), field('records', 'records', '0+', { nullable: '0+' })], '0+'),
    ], '0+'),
  ],
  [
    array('responses', [
      field('name', 'string', '0+'),
      array('partitionResponses', [
        field('index', 'int32', '0+'),
        field('errorCode', 'int16', '0+'),
        field('baseOffset', 'int64', '0+'),
        field('logAppendTimeMs', 'int64', '2+', { default: -1 }),
        field('logStartOffset', 'int64', '5+', { default: -1 }),
        array('recordErrors', [field('batchIndex', 'int32', '8+'), field('batchIndexErrorMessage', 'string', '8+', { nullable: '8+', ...NULL_STRING })], '8+'),
        field('errorMessage', 'string', '8+', { nullable: '8+', ...NULL_STRING }),
      ], '0+'),
    ], '0+'),
    field('throttleTimeMs', 'int32', '1+'),
  ],
);

export const FETCH = api(
  1, 'Fetch', '4-11', '12+',
  [
    field('clusterId', 'string', '12+', { nullable: '12+', tag: 0, ...NULL_STRING }),
    field('replicaId', 'int32', '0-14', { default: -1 }),
    field('maxWaitMs', 'int32', '0+'),
    field('minBytes', 'int32', '0+'),
    field('maxBytes', 'int32', '3+', { default: 0x7fffffff }),
    field('isolationLevel', 'int8', '4+'),
    field('sessionId', 'int32', '7+'),
    field('sessionEpoch', 'int32', '7+', { default: -1 }),
    array('topics', [
      field('topic', 'string', '0-12'),
      field('topicId', 'uuid', '13+'),
      array('partitions', [
        field('partition', 'int32', '0+'),
        field('currentLeaderEpoch', 'int32', '9+', { default: -1 }),
        field('fetchOffset', 'int64', '0+'),
        field('lastFetchedEpoch', 'int32', '12+', { default: -1 }),
        field('logStartOffset', 'int64', '5+', { default: -1 }),
        field('partitionMaxBytes', 'int32', '0+'),
      ], '0+'),
    ], '0+'),
    array('forgottenTopicsData', [field('topic', 'string', '7-12'), field('topicId', 'uuid', '13+'), array('partitions', 'int32', '7+')], '7+'),
    field('rackId', 'string', '11+'),
  ],
  [
    field('throttleTimeMs', 'int32', '1+'),
    field('errorCode', 'int16', '7+'),
    field('sessionId', 'int32', '7+'),
    array('responses', [
      field('topic', 'string', '0-12'),
      field('topicId', 'uuid', '13+'),
      array('partitions', [
        field('partitionIndex', 'int32', '0+'),
        field('errorCode', 'int16', '0+'),
        field('highWatermark', 'int64', '0+'),
        field('lastStableOffset', 'int64', '4+', { default: -1 }),
        field('logStartOffset', 'int64', '5+', { default: -1 }),
        array('abortedTransactions', [field('producerId', 'int64', '4+'), field('firstOffset', 'int64', '4+')], '4+', { nullable: '4+', default: null }),
        field('preferredReadReplica', 'int32', '11+', { default: -1 }),
        field('records', 'records', '0+', { nullable: '0+' }),
      ], '0+'),
    ], '0+'),
  ],
);

export const LIST_OFFSETS = api(
  2, 'ListOffsets', '0-5', '6+',
  [
    field('replicaId', 'int32', '0+'),
    field('isolationLevel', 'int8', '2+'),
    array('topics', [
      field('name', 'string', '0+'),
      array('partitions', [
        field('partitionIndex', 'int32', '0+'),
        field('currentLeaderEpoch', 'int32', '4+', { default: -1 }),
        field('timestamp', 'int64', '0+'),
        field('maxNumOffsets', 'int32', '0', { default: 1 }),
      ], '0+'),
    ], '0+'),
    field('timeoutMs', 'int32', '10+'),
  ],
  [
    field('throttleTimeMs', 'int32', '2+'),
    array('topics', [
      field('name', 'string', '0+'),
      array('partitions', [
        field('partitionIndex', 'int32', '0+'),
        field('errorCode', 'int16', '0+'),
        array('oldStyleOffsets', 'int64', '0'),
        field('timestamp', 'int64', '1+', { default: -1 }),
        field('offset', 'int64', '1+', { default: -1 }),
        field('leaderEpoch', 'int32', '4+', { default: -1 }),
      ], '0+'),
    ], '0+'),
  ],
);
