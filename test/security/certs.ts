// Certificates made in the test (selfsigned): a CA, a server certificate for 127.0.0.1/localhost
// signed by it, and client certificates whose subject CN names a principal.
import selfsigned from 'selfsigned';

export interface Pem {
  cert: string;
  key: string;
}

export interface TestPki {
  ca: Pem;
  server: Pem;
  client(commonName: string): Promise<Pem>;
  /** Another CA, whose certificates the server must not accept. */
  stranger: Pem;
}

const inAYear = (): Date => new Date(Date.now() + 365 * 86_400_000);

async function makeCa(name: string): Promise<Pem> {
  const p = await selfsigned.generate([{ name: 'commonName', value: name }], {
    keyType: 'ec',
    algorithm: 'sha256',
    notAfterDate: inAYear(),
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  return { cert: p.cert, key: p.private };
}

async function signed(ca: Pem, commonName: string, usage: 'serverAuth' | 'clientAuth'): Promise<Pem> {
  const p = await selfsigned.generate([{ name: 'commonName', value: commonName }], {
    keyType: 'ec',
    algorithm: 'sha256',
    notAfterDate: inAYear(),
    ca: { cert: ca.cert, key: ca.key },
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: usage === 'serverAuth', clientAuth: usage === 'clientAuth' },
      ...(usage === 'serverAuth'
        ? [{ name: 'subjectAltName' as const, altNames: [{ type: 2 as const, value: 'localhost' }, { type: 7 as const, ip: '127.0.0.1' }] }]
        : []),
    ],
  });
  return { cert: p.cert, key: p.private };
}

export async function makePki(): Promise<TestPki> {
  const ca = await makeCa('seglog test CA');
  return {
    ca,
    server: await signed(ca, 'localhost', 'serverAuth'),
    client: (cn) => signed(ca, cn, 'clientAuth'),
    stranger: await makeCa('some other CA'),
  };
}
