// PM2 for a service using graceful: `pm2 start deploy/pm2/ecosystem.config.cjs`,
// then `pm2 reload app` restarts the instances one by one without losing a request.
// Under PM2 (PM2_HOME / pm_id set), graceful sends process.send('ready') once
// listening and drains on SIGINT or on the 'shutdown' message. The numbers depend on
// each other; test/e2e/pm2.test.ts checks them against the options core resolves.
const TIMEOUT = 10_000 // graceful's whole budget, SIGINT to exit (GRACEFUL_TIMEOUT below)

module.exports = {
  apps: [
    {
      name: 'app',
      // Compiled JavaScript, run by node itself (PM2 forks node; never `npm start`).
      script: 'dist/server.js',
      // Cluster mode: PM2 is the cluster primary and shares the port between instances.
      exec_mode: 'cluster',
      instances: 4,
      env: {
        PORT: '3000',
        // Read by graceful itself (@graceful/core), in any app: `timeout` and
        // `readinessDelay` unless the app passes them in code.
        GRACEFUL_TIMEOUT: String(TIMEOUT),
        // Keep-alive clients get `Connection: close` for this long and move to
        // another instance before the listener closes (no load balancer to tell).
        GRACEFUL_READINESS_DELAY: '1000',
      },
      // A reload starts the new instance and waits for its 'ready' before
      // stopping the old one; graceful sends it once every server listens.
      wait_ready: true,
      // How long PM2 waits for 'ready' before giving up on it (default 3000 ms).
      listen_timeout: 10_000,
      // SIGKILL this long after SIGINT (default 1600 ms, far too short):
      // above graceful's budget, so graceful, not PM2, decides when to stop.
      kill_timeout: TIMEOUT + 2000,
      // Stop with the 'shutdown' IPC message instead of SIGINT (needed on
      // Windows, where there are no signals); graceful handles both.
      shutdown_with_message: true,
    },
  ],
}
