// The handler table: API key → schema and handler. Adding an API is a schema in messages/ and a
// line here. Keys not in the table close the connection (connection.ts says why).
import type { KafkaApi } from '../context.js';
import { API_VERSIONS, FETCH, LIST_OFFSETS, METADATA, PRODUCE } from '../messages/core.js';
import { CREATE_PARTITIONS, CREATE_TOPICS, DELETE_TOPICS, DESCRIBE_CONFIGS } from '../messages/admin.js';
import { DELETE_GROUPS, DESCRIBE_GROUPS, FIND_COORDINATOR, HEARTBEAT, JOIN_GROUP, LEAVE_GROUP, LIST_GROUPS, OFFSET_COMMIT, OFFSET_FETCH, SYNC_GROUP } from '../messages/groups.js';
import { findCoordinator, heartbeat, joinGroup, leaveGroup, syncGroup } from './group-membership.js';
import { deleteGroups, describeGroups, listGroups, offsetCommit, offsetFetch } from './group-offsets.js';
import { createPartitions, createTopics, deleteTopics, describeConfigs } from './admin.js';
import { apiVersions } from './api-versions.js';
import { fetch } from './fetch.js';
import { INIT_PRODUCER_ID } from '../messages/producer.js';
import { initProducerId } from './init-producer-id.js';
import { SASL_AUTHENTICATE, SASL_HANDSHAKE } from '../messages/sasl.js';
import { saslAuthenticate, saslHandshake } from './sasl.js';
import { listOffsets } from './list-offsets.js';
import { metadata } from './metadata.js';
import { produce } from './produce.js';

export const KAFKA_APIS: ReadonlyMap<number, KafkaApi> = new Map(
  [
    { schema: PRODUCE, handle: produce },
    { schema: FETCH, handle: fetch },
    { schema: LIST_OFFSETS, handle: listOffsets },
    { schema: METADATA, handle: metadata },
    { schema: API_VERSIONS, handle: apiVersions },
    { schema: CREATE_TOPICS, handle: createTopics },
    { schema: DELETE_TOPICS, handle: deleteTopics },
    { schema: DESCRIBE_CONFIGS, handle: describeConfigs },
    { schema: CREATE_PARTITIONS, handle: createPartitions },
    { schema: FIND_COORDINATOR, handle: findCoordinator },
    { schema: JOIN_GROUP, handle: joinGroup },
    { schema: SYNC_GROUP, handle: syncGroup },
    { schema: HEARTBEAT, handle: heartbeat },
    { schema: LEAVE_GROUP, handle: leaveGroup },
    { schema: OFFSET_COMMIT, handle: offsetCommit },
    { schema: OFFSET_FETCH, handle: offsetFetch },
    { schema: LIST_GROUPS, handle: listGroups },
    { schema: DESCRIBE_GROUPS, handle: describeGroups },
    { schema: DELETE_GROUPS, handle: deleteGroups },
    { schema: INIT_PRODUCER_ID, handle: initProducerId },
    { schema: SASL_HANDSHAKE, handle: saslHandshake },
    { schema: SASL_AUTHENTICATE, handle: saslAuthenticate },
  ].map((a) => [a.schema.apiKey, a]),
);
