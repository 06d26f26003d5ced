/**
 * A throwaway OpenSSH server on 127.0.0.1 with its own host key and a client key,
 * for the sftp reference. Installs Debian's openssh-server if sshd is missing;
 * started in the foreground and stopped by its pid.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SSHD = '/usr/sbin/sshd';
export const SFTP_CIPHER = 'aes256-gcm@openssh.com';

export interface Sshd {
  readonly port: number;
  readonly dir: string;
  sftp(commands: string[]): number;
  stop(): void;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address !== null && typeof address === 'object') resolve(address.port);
        else reject(new Error('no port'));
      });
    });
  });
}

/**
 * `cores`: run sshd (and every process it forks) on one CPU and the sftp client on
 * another (taskset), for the pinned two-machine-like figure; unpinned by default.
 */
export async function startSshd(cores?: { server: number; client: number }): Promise<Sshd> {
  if (!existsSync(SSHD)) {
    execFileSync('apt-get', ['install', '-y', '-qq', 'openssh-server'], {
      stdio: 'ignore',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  }
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const dir = mkdtempSync(join(tmpdir(), 'sisp-sshd-'));
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'host_key')]);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'client_key')]);
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(dir, 'client_key.pub')), {
    mode: 0o600,
  });
  const port = await freePort();
  writeFileSync(
    join(dir, 'sshd_config'),
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${join(dir, 'host_key')}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PermitRootLogin prohibit-password',
      'StrictModes no',
      'UsePAM no',
      `Ciphers ${SFTP_CIPHER}`,
      'Subsystem sftp internal-sftp',
      '',
    ].join('\n'),
  );
  const sshdArgs = ['-D', '-e', '-f', join(dir, 'sshd_config')];
  const child: ChildProcess =
    cores === undefined
      ? spawn(SSHD, sshdArgs, { stdio: 'ignore' })
      : spawn('taskset', ['-c', String(cores.server), SSHD, ...sshdArgs], { stdio: 'ignore' });
  // Wait until it accepts connections.
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      execFileSync('ssh', [...clientOptions(dir, port), 'root@127.0.0.1', 'true'], {
        stdio: 'ignore',
        timeout: 5000,
      });
      break;
    } catch {
      if (Date.now() > deadline) {
        child.kill();
        throw new Error('sshd did not start');
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  return {
    port,
    dir,
    sftp(commands) {
      const batch = join(dir, 'batch');
      writeFileSync(batch, `${commands.join('\n')}\n`);
      const started = performance.now();
      const sftpArgs = ['-q', '-b', batch, ...clientOptions(dir, port, true), 'root@127.0.0.1'];
      if (cores === undefined) execFileSync('sftp', sftpArgs, { stdio: 'ignore' });
      else
        execFileSync('taskset', ['-c', String(cores.client), 'sftp', ...sftpArgs], {
          stdio: 'ignore',
        });
      return (performance.now() - started) / 1000;
    },
    stop() {
      if (child.pid !== undefined) process.kill(child.pid, 'SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function clientOptions(dir: string, port: number, sftp = false): string[] {
  return [
    '-i',
    join(dir, 'client_key'),
    sftp ? '-P' : '-p',
    String(port),
    '-c',
    SFTP_CIPHER,
    '-o',
    'StrictHostKeyChecking=no',
    '-o',
    'UserKnownHostsFile=/dev/null',
    '-o',
    'BatchMode=yes',
    '-o',
    'LogLevel=ERROR',
  ];
}
