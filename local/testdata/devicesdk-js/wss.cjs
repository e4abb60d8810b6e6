// Connects to otactl local's MQTT-over-WebSocket listener with the AWS IoT
// Device SDK for JavaScript (SigV4 with the given keys), subscribes to a
// thing's jobs/get answers, asks for its jobs, and prints what came back.
// argv: host port region accessKeyId secretKey thing
const awsIot = require('aws-iot-device-sdk');
const [host, port, region, accessKeyId, secretKey, thing] = process.argv.slice(2);
const device = awsIot.device({
  host, port: Number(port), protocol: 'wss', region, accessKeyId, secretKey,
  clientId: thing, autoResubscribe: false, offlineQueueing: false,
  maximumReconnectTimeMs: 1000,
});
const answer = `$aws/things/${thing}/jobs/get/accepted`;
const fail = (why) => { console.log(JSON.stringify({ error: String(why) })); process.exit(1); };
setTimeout(() => fail('timed out'), 20000);
device.on('error', fail);
device.on('connect', () => {
  device.subscribe(answer, { qos: 1 }, (err) => {
    if (err) fail(err);
    device.publish(`$aws/things/${thing}/jobs/get`, JSON.stringify({ clientToken: 'js-wss' }), { qos: 1 });
  });
});
device.on('message', (topic, payload) => {
  const doc = JSON.parse(payload.toString());
  console.log(JSON.stringify({ topic, clientToken: doc.clientToken, queued: (doc.queuedJobs || []).map((j) => j.jobId) }));
  device.end(true, () => process.exit(0));
});
