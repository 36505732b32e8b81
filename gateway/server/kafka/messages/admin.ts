// Schemas of the topic administration APIs: CreateTopics, DeleteTopics, CreatePartitions,
// DescribeConfigs (non-flexible versions; see README.md in gateway/server/kafka/).
import { api, array, field } from '../schema.js';

const NULL_STRING = { default: null };

export const CREATE_TOPICS = api(
  19, 'CreateTopics', '0-4', '5+',
  [
    array('topics', [
      field('name', 'string', '0+'),
      field('numPartitions', 'int32', '0+'),
      field('replicationFactor', 'int16', '0+'),
      array('assignments', [field('partitionIndex', 'int32', '0+'), array('brokerIds', 'int32', '0+')], '0+'),
      array('configs', [field('name', 'string', '0+'), field('value', 'string', '0+', { nullable: '0+', ...NULL_STRING })], '0+'),
    ], '0+'),
    field('timeoutMs', 'int32', '0+', { default: 60_000 }),
    field('validateOnly', 'bool', '1+'),
  ],
  [
    field('throttleTimeMs', 'int32', '2+'),
    array('topics', [
      field('name', 'string', '0+'),
      field('topicId', 'uuid', '7+'),
      field('errorCode', 'int16', '0+'),
      field('errorMessage', 'string', '1+', { nullable: '0+', ...NULL_STRING }),
      field('topicConfigErrorCode', 'int16', '5+', { tag: 0 }),
      field('numPartitions', 'int32', '5+', { default: -1 }),
      field('replicationFactor', 'int16', '5+', { default: -1 }),
      array('configs', [
        field('name', 'string', '5+'),
        field('value', 'string', '5+', { nullable: '5+', ...NULL_STRING }),
        field('readOnly', 'bool', '5+'),
        field('configSource', 'int8', '5+', { default: -1 }),
        field('isSensitive', 'bool', '5+'),
      ], '5+', { nullable: '5+' }),
    ], '0+'),
  ],
);

export const DELETE_TOPICS = api(
  20, 'DeleteTopics', '0-3', '4+',
  [
    array('topics', [field('name', 'string', '6+', { nullable: '6+', ...NULL_STRING }), field('topicId', 'uuid', '6+')], '6+'),
    array('topicNames', 'string', '0-5'),
    field('timeoutMs', 'int32', '0+'),
  ],
  [
    field('throttleTimeMs', 'int32', '1+'),
    array('responses', [
      field('name', 'string', '0+', { nullable: '6+' }),
      field('topicId', 'uuid', '6+'),
      field('errorCode', 'int16', '0+'),
      field('errorMessage', 'string', '5+', { nullable: '5+', ...NULL_STRING }),
    ], '0+'),
  ],
);

export const CREATE_PARTITIONS = api(
  37, 'CreatePartitions', '0-1', '2+',
  [
    array('topics', [
      field('name', 'string', '0+'),
      field('count', 'int32', '0+'),
      array('assignments', [array('brokerIds', 'int32', '0+')], '0+', { nullable: '0+', default: null }),
    ], '0+'),
    field('timeoutMs', 'int32', '0+'),
    field('validateOnly', 'bool', '0+'),
  ],
  [
    field('throttleTimeMs', 'int32', '0+'),
    array('results', [
      field('name', 'string', '0+'),
      field('errorCode', 'int16', '0+'),
      field('errorMessage', 'string', '0+', { nullable: '0+', ...NULL_STRING }),
    ], '0+'),
  ],
);

export const DESCRIBE_CONFIGS = api(
  32, 'DescribeConfigs', '0-3', '4+',
  [
    array('resources', [
      field('resourceType', 'int8', '0+'),
      field('resourceName', 'string', '0+'),
      array('configurationKeys', 'string', '0+', { nullable: '0+', default: null }),
    ], '0+'),
    field('includeSynonyms', 'bool', '1+'),
    field('includeDocumentation', 'bool', '3+'),
  ],
  [
    field('throttleTimeMs', 'int32', '0+'),
    array('results', [
      field('errorCode', 'int16', '0+'),
      field('errorMessage', 'string', '0+', { nullable: '0+', ...NULL_STRING }),
      field('resourceType', 'int8', '0+'),
      field('resourceName', 'string', '0+'),
      array('configs', [
        field('name', 'string', '0+'),
        field('value', 'string', '0+', { nullable: '0+', ...NULL_STRING }),
        field('readOnly', 'bool', '0+'),
        field('isDefault', 'bool', '0'),
        field('configSource', 'int8', '1+', { default: -1 }),
        field('isSensitive', 'bool', '0+'),
        array('synonyms', [field('name', 'string', '1+'), field('value', 'string', '1+', { nullable: '0+', ...NULL_STRING }), field('source', 'int8', '1+')], '1+'),
        field('configType', 'int8', '3+'),
        field('documentation', 'string', '3+', { nullable: '0+', ...NULL_STRING }),
      ], '0+'),
    ], '0+'),
  ],
);
