// The CLI's one-line messages: negative numbers reach the option checks, parseArgs' wording
// is cut to one line, and an error's code is printed once.
import test from 'ava';
import { attachNegativeValues, parseArgsMessage } from '../../gateway/cli/cli-args.js';
import { errorLine } from '../../gateway/cli/error-line.js';
import { SeglogClientError } from '../../gateway/client/client-errors.js';
import { TopicNotFoundError } from '../../engine/format/errors.js';

const strings = new Set(['partition', 'from', 'max', 'key']);

test('attachNegativeValues: `--opt -N` becomes `--opt=-N` for string options only', (t) => {
  t.deepEqual(attachNegativeValues(['t', '--partition', '-1', '--from', '-5', '--max', '-3'], strings), ['t', '--partition=-1', '--from=-5', '--max=-3']);
  t.deepEqual(attachNegativeValues(['--no-follow', '-1'], strings), ['--no-follow', '-1'], 'not for a boolean option');
  t.deepEqual(attachNegativeValues(['--key', '-x'], strings), ['--key', '-x'], 'not for a dash that is no number');
  t.deepEqual(attachNegativeValues(['--', '--partition', '-1'], strings), ['--', '--partition', '-1'], 'not after --');
  t.deepEqual(attachNegativeValues(['--partition'], strings), ['--partition']);
});

test('parseArgsMessage: one line', (t) => {
  const ambiguous = "Option '--key' argument is ambiguous.\nDid you forget to specify the option argument for '--key'?\nTo specify an option argument starting with a dash use '--key=-XYZ'.";
  t.is(parseArgsMessage(ambiguous), "--key needs a value; to give one starting with '-', write --key=-VALUE");
  t.is(parseArgsMessage("Option '--max <value>' argument missing"), '--max needs a value');
  t.is(parseArgsMessage("Unknown option '--foo'. To specify a positional argument starting with a '-', place it at the end"), 'unknown option --foo');
  t.is(parseArgsMessage('first\nsecond'), 'first');
});

test('errorLine: the code once', (t) => {
  const enospc = Object.assign(new Error("ENOSPC: no space left on device, write"), { code: 'ENOSPC' });
  t.is(errorLine(enospc), 'ENOSPC: no space left on device, write');
  t.is(errorLine(new TopicNotFoundError('x')), 'TOPIC_NOT_FOUND: topic "x" does not exist');
  t.is(errorLine(new SeglogClientError('CONNECT_FAILED', 'cannot connect to ws://127.0.0.1:1')), 'CONNECT_FAILED: cannot connect to ws://127.0.0.1:1');
  t.is(errorLine(Object.assign(new Error('ENOSPCX is not ENOSPC'), { code: 'ENOSPC' })), 'ENOSPC: ENOSPCX is not ENOSPC', 'a prefix that is not the whole code');
  t.is(errorLine(new Error('plain')), 'plain');
  t.is(errorLine('a string'), 'a string');
  t.is(errorLine(null), 'null');
});
