// The one line the CLI prints for a failure: `CODE: message`, with the code said once. Node's
// system errors (ENOSPC, EEXIST, ...) already start their message with their code.

export function errorLine(e: unknown): string {
  if (!(e instanceof Error) && (typeof e !== 'object' || e === null)) return String(e);
  const { code, message } = e as { code?: unknown; message?: unknown };
  const text = typeof message === 'string' ? message : String(e);
  if (typeof code !== 'string' || code === '') return text;
  if (text === code || text.startsWith(`${code}:`) || text.startsWith(`${code} `)) return text;
  return `${code}: ${text}`;
}
