/**
 * Certificates for the mTLS tests, made with `openssl` in a fresh temp folder:
 * a test CA, a server certificate for 127.0.0.1 signed by it, a client
 * certificate signed by it (for `tls_client_auth`) and a self-signed client
 * certificate (for `self_signed_tls_client_auth`).
 */
import { execFileSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const OPENSSL_MISSING = 'openssl not found: apt-get install -y openssl';

export interface Pem {
  cert: string;
  key: string;
}

export interface TestCertificates {
  ca: string;
  server: Pem;
  /** Signed by the CA, subject `CN=<clientSubject>`. */
  client: Pem;
  /** Self-signed, subject `CN=self-signed-client`. */
  selfSigned: Pem;
  clientSubject: string;
  /** Removes the temp folder. */
  cleanup(): void;
}

/** The `x5t#S256` confirmation of a certificate (RFC 8705 section 3.1). */
export function thumbprint(certPem: string): string {
  return createHash('sha256').update(new X509Certificate(certPem).raw).digest('base64url');
}

function openssl(dir: string, args: string[]): void {
  try {
    execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(OPENSSL_MISSING);
    throw new Error(`openssl ${args[0]} failed: ${String((err as { stderr?: Buffer }).stderr ?? err)}`);
  }
}

export function makeCertificates(clientSubject = 'mtls-client'): TestCertificates {
  const dir = mkdtempSync(path.join(tmpdir(), 'express-oidc-tls-'));
  const read = (name: string) => readFileSync(path.join(dir, name), 'utf8');
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  openssl(dir, ['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=express-oidc test CA']);
  writeFileSync(path.join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  openssl(dir, ['req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1']);
  openssl(dir, ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'server.ext']);
  writeFileSync(path.join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
  openssl(dir, ['req', ...ec, '-keyout', 'client.key', '-out', 'client.csr', '-subj', `/CN=${clientSubject}`]);
  openssl(dir, ['x509', '-req', '-in', 'client.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'client.crt', '-days', '2', '-extfile', 'client.ext']);
  openssl(dir, ['req', '-x509', ...ec, '-keyout', 'self.key', '-out', 'self.crt', '-days', '2', '-subj', '/CN=self-signed-client']);
  return {
    ca: read('ca.crt'),
    server: { cert: read('server.crt'), key: read('server.key') },
    client: { cert: read('client.crt'), key: read('client.key') },
    selfSigned: { cert: read('self.crt'), key: read('self.key') },
    clientSubject,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
