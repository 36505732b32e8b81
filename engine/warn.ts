// Problems the engine survives but someone should hear of: a process warning, never a throw.
export function warn(message: string, error?: unknown): void {
  process.emitWarning(`seglog: ${message}${error !== undefined ? `: ${(error as Error)?.message ?? String(error)}` : ''}`);
}
