import { existsSync, readFileSync } from 'node:fs'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import net from 'node:net'
import { join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { vi } from 'vitest'
import type { Processes } from '@graceful/test-kit/processes'
import { findBinary } from './binaries.js'
import type { Backend } from './haproxy.js'
import type { StartBalancer } from './rolling.js'

/**
 * The numbers of the nginx configuration deploy/README.md recommends. Open-source
 * nginx reads no health endpoint: it learns of a restart from failed connections
 * only, and then keeps the server out for `fail_timeout`.
 */
export const upstream = {
  /** One refused connect takes a server out for `failTimeoutMs` (nginx's default: 10 s). */
  maxFails: 1,
  failTimeoutMs: 1000,
  /** Idle pooled connections to the app are closed by nginx first: below Node's `keepAliveTimeout` (5 s by default). */
  keepaliveTimeoutMs: 4000,
  keepalive: 32,
} as const

/** The nginx binary, or null when it is not installed. */
export function findNginx (): string | null {
  return findBinary('nginx')
}

/**
 * The configuration under test, self-contained for a non-root run: every path in
 * `dir` (pid, error log, temp folders), `daemon off` so the process we hold is the
 * master, the frontend on a Unix socket. What matters for a rolling restart is in
 * the `upstream` block and `proxy_next_upstream`; deploy/README.md says why.
 */
export function nginxConfig (options: { dir: string, frontend: string, backends: readonly Backend[] }): string {
  const { dir } = options
  return `daemon off;
worker_processes 1;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')} warn;

events {
  worker_connections 1024;
}

http {
  # Only what the client did not get as a 2xx, for the report.
  log_format failed '$status $request_method $request_uri upstream=$upstream_addr $upstream_status';
  map $status $failed {
    ~^2     0;
    default 1;
  }
  access_log ${join(dir, 'access.log')} failed if=$failed;
  client_body_temp_path ${join(dir, 'body')};
  proxy_temp_path ${join(dir, 'proxy')};
  fastcgi_temp_path ${join(dir, 'fastcgi')};
  uwsgi_temp_path ${join(dir, 'uwsgi')};
  scgi_temp_path ${join(dir, 'scgi')};

  upstream app {
${options.backends.map((backend) => `    server 127.0.0.1:${backend.port} max_fails=${upstream.maxFails} fail_timeout=${upstream.failTimeoutMs / 1000}s;`).join('\n')}
    keepalive ${upstream.keepalive};
    keepalive_timeout ${upstream.keepaliveTimeoutMs / 1000}s;
  }

  server {
    listen unix:${options.frontend};
    location / {
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_next_upstream error timeout http_503;
      proxy_connect_timeout 1s;
    }
  }
}
`
}

/**
 * nginx in front of `backends`, for {@link rollingRestart} with `inPlace: true`: a
 * replacement listens on its predecessor's port, and the roll waits `fail_timeout`
 * after it listens (the pause deploy/README.md prescribes), so nginx has tried it
 * again before the next instance stops.
 */
export function nginxBalancer (binary: string, processes: Processes): StartBalancer {
  return async (dir, backends) => {
    const frontend = join(dir, 'lb.sock')
    const config = join(dir, 'nginx.conf')
    for (const temp of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) await mkdir(join(dir, temp))
    await writeFile(config, nginxConfig({ dir, frontend, backends }))
    // -e: the error log before the configuration is read (else /var/log/nginx/error.log, root's).
    const started = processes.spawn('nginx', binary, ['-p', dir, '-c', config, '-e', join(dir, 'error.log')])
    await vi.waitFor(async () => {
      if (!started.alive()) throw new Error(`nginx exited at start:\n${started.output()}\n${await readFile(join(dir, 'error.log'), 'utf8').catch(() => '')}`)
      await new Promise<void>((resolve, reject) => {
        const socket = net.connect(frontend, () => { socket.destroy(); resolve() })
        socket.once('error', reject)
      })
    }, { timeout: 5000, interval: 20 })
    // The worker is the master's child, and a SIGKILLed master leaves it running:
    // adopted, so teardown (`killAdopted()`) ends it by PID too.
    for (const pid of readFileSync(`/proc/${started.pid}/task/${started.pid}/children`, 'utf8').split(' ').filter((pid) => pid.trim() !== '')) processes.adopt(Number(pid))
    return {
      socketPath: frontend,
      replace: async () => {
        await delay(upstream.failTimeoutMs + 250)
      },
      errors: () => {
        const log = join(dir, 'access.log')
        return existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter((line) => line !== '') : []
      },
    }
  }
}
