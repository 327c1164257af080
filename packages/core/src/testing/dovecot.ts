import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer } from 'node:http';
import { createServer, connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

/** A Dovecot IMAP server of its own (Debian's `dovecot-imapd`), for tests of mailbox sync. */
export interface TestDovecot {
  host: string;
  /** Plain IMAP (no TLS). */
  port: number;
  /** IMAP over TLS (`startTestDovecot({ tls: true })`, a certificate for 127.0.0.1 of its own), or null. */
  tlsPort: number | null;
  /** That certificate (PEM): the CA a client must trust for `tlsPort`. */
  ca: string | null;
  /** Its directory: configuration, users, mail (deleted by `stop`). */
  dir: string;
  config: string;
}

const DOVECOT = ['/usr/sbin/dovecot', '/usr/local/sbin/dovecot'];
const DOVEADM = ['/usr/bin/doveadm', '/usr/local/bin/doveadm'];

/** Where Dovecot is on this machine, or null (`apt-get install dovecot-imapd`). */
export function dovecotBinary(): string | null {
  return DOVECOT.find((p) => existsSync(p)) ?? null;
}

/** A free TCP port of 127.0.0.1 (the test servers' port). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Resolves once the port takes connections (the server is up), or fails after `timeoutMs`. */
async function accepting(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`Dovecot did not listen on port ${port} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Starts Dovecot on a free port of 127.0.0.1 with its own configuration in a temporary directory:
 * plain IMAP (no TLS, as on a loopback), users with passwords (`addMailUser`) or OAuth2 access
 * tokens checked by a token introspection endpoint of its own (`addMailToken`), Maildir, an
 * INBOX and a Sent folder per user. Runs as the current user, or as Debian's `dovecot` and
 * `dovenull` users under root. Returns null when Dovecot is not installed.
 */
export async function startTestDovecot(options: { tls?: boolean } = {}): Promise<(TestDovecot & { stop(): Promise<void> }) | null> {
  const binary = dovecotBinary();
  if (!binary) return null;
  const dir = await mkdtemp(path.join(tmpdir(), 'kokyaku-dovecot-'));
  // Dovecot's auth process runs as its own user: it reads the passwd file here.
  await chmod(dir, 0o755);
  const port = await freePort();
  // TLS on request only: with TLS, the plain port offers STARTTLS too, which clients then take.
  const tls = options.tls ? await selfSigned(dir) : null;
  const tlsPort = tls ? await freePort() : null;
  const me = userInfo();
  const root = me.uid === 0;
  // Dovecot never delivers as root: under root, mail belongs to Debian's `dovecot` user.
  const owner = root ? await systemUser('dovecot') : { uid: me.uid, gid: me.gid };
  await mkdir(path.join(dir, 'mail'));
  if (root) await chown(path.join(dir, 'mail'), owner.uid, owner.gid);
  const config = path.join(dir, 'dovecot.conf');
  // One passwd file per user: Dovecot opens a user's file on their first sign-in, so an account
  // added at any moment is known at once (one shared file is looked at again only once a second).
  await mkdir(path.join(dir, 'users'));
  await chmod(path.join(dir, 'users'), 0o755);
  // OAuth2: Dovecot asks this token introspection endpoint (RFC 7662) whether an access token is
  // good and whose it is; `addMailToken` writes the tokens it knows.
  await mkdir(path.join(dir, 'tokens'));
  const introspection = createHttpServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', async () => {
      const token = new URLSearchParams(body).get('token') ?? '';
      const user = /^[A-Za-z0-9._-]{8,200}$/.test(token) ? await readFile(path.join(dir, 'tokens', token), 'utf8').catch(() => null) : null;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(user ? { active: true, username: user.trim() } : { active: false }));
    });
  });
  await new Promise<void>((resolve) => introspection.listen(0, '127.0.0.1', resolve));
  const introspectionPort = (introspection.address() as { port: number }).port;
  await writeFile(
    path.join(dir, 'oauth2.conf.ext'),
    `introspection_mode = post\nintrospection_url = http://127.0.0.1:${introspectionPort}/introspect\nusername_attribute = username\nactive_attribute = active\nactive_value = true\n`,
  );
  await writeFile(
    config,
    `base_dir = ${dir}/run
state_dir = ${dir}/state
log_path = ${dir}/dovecot.log
protocols = imap
listen = 127.0.0.1
${tls ? `ssl = yes\nssl_cert = <${dir}/cert.pem\nssl_key = <${dir}/key.pem` : 'ssl = no'}
disable_plaintext_auth = no
auth_mechanisms = plain login xoauth2 oauthbearer
default_internal_user = ${root ? 'dovecot' : me.username}
default_login_user = ${root ? 'dovenull' : me.username}
mail_location = maildir:${dir}/mail/%u
first_valid_uid = 0
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = ${port}
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = ${tlsPort ?? 0}
  }
  chroot =
}
service anvil {
  chroot =
}
passdb {
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = ${dir}/oauth2.conf.ext
}
passdb {
  driver = passwd-file
  mechanisms = plain login
  args = scheme=PLAIN username_format=%u ${dir}/users/%u
}
userdb {
  driver = static
  args = uid=${owner.uid} gid=${owner.gid} home=${dir}/mail/%u allow_all_users=yes
}
namespace inbox {
  inbox = yes
  mailbox Sent {
    special_use = \\Sent
    auto = subscribe
  }
}
`,
  );
  const child = spawn(binary, ['-F', '-c', config], { stdio: 'ignore' });
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  try {
    await accepting(port, 15_000);
  } catch (error) {
    child.kill('SIGKILL');
    introspection.close();
    throw error;
  }
  return {
    host: '127.0.0.1',
    port,
    tlsPort,
    ca: tls,
    dir,
    config,
    stop: async () => {
      if (!exited) {
        const gone = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await gone;
      }
      introspection.closeAllConnections();
      await new Promise((resolve) => introspection.close(resolve));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A key and a certificate for 127.0.0.1 (one day), made with openssl; null without it. */
async function selfSigned(dir: string): Promise<string | null> {
  const openssl = ['/usr/bin/openssl', '/usr/local/bin/openssl'].find((p) => existsSync(p));
  if (!openssl) return null;
  await promisify(execFile)(openssl, [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=127.0.0.1',
    '-addext',
    'subjectAltName=IP:127.0.0.1',
    '-keyout',
    path.join(dir, 'key.pem'),
    '-out',
    path.join(dir, 'cert.pem'),
  ]);
  await chmod(path.join(dir, 'key.pem'), 0o644);
  return readFile(path.join(dir, 'cert.pem'), 'utf8');
}

async function systemUser(name: string): Promise<{ uid: number; gid: number }> {
  const line = (await readFile('/etc/passwd', 'utf8')).split('\n').find((l) => l.startsWith(`${name}:`));
  if (!line) throw new Error(`No system user "${name}" (it comes with Debian's dovecot-core package)`);
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

/** A mail account on the test server. */
export async function addMailUser(dovecot: TestDovecot, user: string, password: string): Promise<void> {
  if (!/^[A-Za-z0-9._@+-]+$/.test(user) || password.includes(':') || password.includes('\n')) throw new Error('addMailUser: a plain user name and a password without ":"');
  await writeFile(path.join(dovecot.dir, 'users', user), `${user}:{PLAIN}${password}\n`, { mode: 0o644 });
}

/** An OAuth2 access token the test server takes for the user (XOAUTH2), until `revokeMailToken`. */
export async function addMailToken(dovecot: TestDovecot, user: string, token: string): Promise<void> {
  if (!/^[A-Za-z0-9._-]{8,200}$/.test(token)) throw new Error('addMailToken: 8-200 letters, digits, ".", "_" or "-"');
  await writeFile(path.join(dovecot.dir, 'tokens', token), user, { mode: 0o644 });
}

export async function revokeMailToken(dovecot: TestDovecot, token: string): Promise<void> {
  await rm(path.join(dovecot.dir, 'tokens', token), { force: true });
}

/** Gives a folder a new UIDVALIDITY, as a server does when it rebuilds the folder (`doveadm mailbox update`). */
export async function setUidValidity(dovecot: TestDovecot, user: string, folder: string, uidValidity: number): Promise<void> {
  const doveadm = DOVEADM.find((p) => existsSync(p));
  if (!doveadm) throw new Error('doveadm is not installed');
  await promisify(execFile)(doveadm, ['-c', dovecot.config, 'mailbox', 'update', '-u', user, '--uid-validity', String(uidValidity), folder]);
}
