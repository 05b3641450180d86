// Helpers for smoke.sh (run with the host's node from the repository, after npm ci).
//
//   node test/container/helpers.mjs task WORKFLOW.dig TASK
//       prints {"command": <the sh> command>, "result_settings": {...}, "export": {...}} of a task
//       (TASK is its name, e.g. +load_into_selligent; `export` is the workflow's top-level _export)
//   node test/container/helpers.mjs s3 DATA_DIR BUCKET KEY FILE
//       starts an S3-compatible server (s3rver) on 127.0.0.1, any free port, stores FILE gzip-compressed
//       as s3://BUCKET/KEY, prints "s3 server listening on http://127.0.0.1:PORT", runs until SIGTERM
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { gzipSync } from 'node:zlib';

const [command, ...args] = process.argv.slice(2);

if (command === 'task') {
  const { parse } = await import('yaml');
  const [file, taskName] = args;
  const workflow = parse(readFileSync(file, 'utf8'));
  const find = (node) => {
    if (!node || typeof node !== 'object') return undefined;
    if (taskName in node) return node[taskName];
    for (const value of Object.values(node)) {
      const found = find(value);
      if (found) return found;
    }
    return undefined;
  };
  const task = find(workflow);
  if (!task) throw new Error(`${file}: no task ${taskName}`);
  process.stdout.write(
    JSON.stringify({ command: task['sh>'], result_settings: task.result_settings, export: workflow._export ?? {} }) +
      '\n',
  );
} else if (command === 's3') {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const [directory, bucket, key, file] = args;
  const S3rver = createRequire(import.meta.url)('s3rver');
  const { S3Client, PutObjectCommand } = await import('@aws-sdk/client-s3');
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    directory,
    silent: true,
    configureBuckets: [{ name: bucket }],
  });
  const { port } = await server.run();
  const client = new S3Client({
    region: 'us-east-1',
    endpoint: `http://127.0.0.1:${port}`,
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    // s3rver stores aws-chunked framing as object data: send plain bodies.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  await client.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: gzipSync(readFileSync(file)),
      ContentType: 'text/csv',
      ContentEncoding: 'gzip',
    }),
  );
  client.destroy();
  process.stdout.write(`s3 server listening on http://127.0.0.1:${port}\n`);
  const stop = () =>
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
} else {
  process.stderr.write('usage: helpers.mjs task WORKFLOW TASK | s3 DATA_DIR BUCKET KEY FILE\n');
  process.exit(2);
}
