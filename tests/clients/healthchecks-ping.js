// Pings a Heartbeat server with Healthchecks.io's own JavaScript client, as a job would over two runs: one success
// (the host is known from then on), then start, success, and a fail.
// Usage: node healthchecks-ping.js BASE_URL UUID; prints each answer's body on a line of its own.
const { HealthChecksPingClient } = require('healthchecks-io-client');

const [baseUrl, uuid] = process.argv.slice(2);
const client = new HealthChecksPingClient({ baseUrl, uuid, returnResponse: true, timeout: 10000 });

(async () => {
  for (const signal of ['success', 'start', 'success', 'fail']) {
    const answer = await client[signal]();
    console.log(`${signal}: ${answer}`);
  }
})().catch((error) => {
  console.error(error.message);
  process.exit(1);
});
