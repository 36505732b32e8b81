// Schemas of SaslHandshake (17) and SaslAuthenticate (36). Handshake v0 is listed because librdkafka
// takes a broker without it for one that has no SASL at all; but after a v0 handshake a client would
// send raw SASL tokens outside Kafka framing, which this listener does not read (such a connection
// is closed as malformed). Clients that know SaslAuthenticate (kafkajs, librdkafka, kafka-python,
// Java) send v1 when it is listed.
import { api, array, field } from '../schema.js';

export const SASL_HANDSHAKE = api(
  17, 'SaslHandshake', '0-1', 'none',
  [field('mechanism', 'string', '0+')],
  [field('errorCode', 'int16', '0+'), array('mechanisms', 'string', '0+')],
);

export const SASL_AUTHENTICATE = api(
  36, 'SaslAuthenticate', '0-2', '2+',
  [field('authBytes', 'bytes', '0+')],
  [
    field('errorCode', 'int16', '0+'),
    field('errorMessage', 'string', '0+', { nullable: '0+', default: null }),
    field('authBytes', 'bytes', '0+'),
    field('sessionLifetimeMs', 'int64', '1+'),
  ],
);
