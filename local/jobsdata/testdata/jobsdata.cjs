// Drives otactl local's iot-jobs-data with the AWS SDK for JavaScript v3
// (run by TestJavaScriptSDK from a copy beside its node_modules). Arguments: endpoint URL, access key, secret,
// thing name, job id, the job's document. Prints one JSON object of what the
// client saw; exits non-zero when a check fails.
const {
  IoTJobsDataPlaneClient,
  GetPendingJobExecutionsCommand,
  StartNextPendingJobExecutionCommand,
  DescribeJobExecutionCommand,
  UpdateJobExecutionCommand,
} = require("@aws-sdk/client-iot-jobs-data-plane");

const [endpoint, accessKeyId, secretAccessKey, thingName, jobId, doc] = process.argv.slice(2);
const client = new IoTJobsDataPlaneClient({
  endpoint,
  region: "us-east-1",
  credentials: { accessKeyId, secretAccessKey },
  maxAttempts: 1,
});

function check(ok, what) {
  if (!ok) throw new Error("check failed: " + what);
}

// refused runs a command that must fail and returns what the client made of it.
async function refused(cmd) {
  try {
    await client.send(cmd);
  } catch (err) {
    const state = err.executionState;
    return [err.name, err.$metadata && err.$metadata.httpStatusCode, state ? state.versionNumber : null];
  }
  throw new Error("accepted: " + cmd.constructor.name);
}

async function main() {
  const out = {};
  const pending = await client.send(new GetPendingJobExecutionsCommand({ thingName }));
  out.queued = pending.queuedJobs.map((j) => j.jobId);

  const started = await client.send(new StartNextPendingJobExecutionCommand({
    thingName, statusDetails: { step: "download" }, stepTimeoutInMinutes: 10,
  }));
  const e = started.execution;
  check(e.jobDocument === doc, "start-next document " + JSON.stringify(e.jobDocument));
  check(typeof e.queuedAt === "number" && e.queuedAt < 1e10, "queuedAt in seconds: " + e.queuedAt);
  out.started = [e.jobId, e.status, e.versionNumber, e.statusDetails.step];

  const described = await client.send(new DescribeJobExecutionCommand({ thingName, jobId, includeJobDocument: true }));
  check(described.execution.jobDocument === doc, "describe document");
  const bare = await client.send(new DescribeJobExecutionCommand({ thingName, jobId: "$next", includeJobDocument: false }));
  check(bare.execution.jobId === jobId && bare.execution.jobDocument === undefined, "describe $next without document");

  out.mismatch = await refused(new UpdateJobExecutionCommand({ thingName, jobId, status: "SUCCEEDED", expectedVersion: 1 }));
  const updated = await client.send(new UpdateJobExecutionCommand({
    thingName, jobId, status: "SUCCEEDED", expectedVersion: 2, includeJobExecutionState: true, includeJobDocument: true,
  }));
  check(updated.jobDocument === doc, "update document");
  out.updated = [updated.executionState.status, updated.executionState.versionNumber];

  out.transition = await refused(new UpdateJobExecutionCommand({ thingName, jobId, status: "IN_PROGRESS" }));
  out.terminal = await refused(new DescribeJobExecutionCommand({ thingName, jobId }));
  out.notFound = await refused(new DescribeJobExecutionCommand({ thingName, jobId: "no-such-job" }));
  out.invalid = await refused(new UpdateJobExecutionCommand({ thingName, jobId, status: "CANCELED" }));
  const next = await client.send(new StartNextPendingJobExecutionCommand({ thingName }));
  out.next = next.execution === undefined ? null : next.execution.jobId;
  console.log(JSON.stringify(out));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
