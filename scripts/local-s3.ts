/**
 * `npm run s3 -- FILE...`: a local S3 server (s3rver) holding the given files, for trying an export from
 * s3:// without a cloud account. It prints the environment the exporter needs and each file's URI, then
 * serves until Ctrl-C.
 */
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { startLocalS3 } from '../src/demo/local-s3.js';

const HELP = `Usage: npm run s3 -- [--port N] [--bucket NAME] FILE...

Starts a local S3 server (s3rver) on 127.0.0.1, creates the bucket, uploads each FILE under its own name,
prints the environment an export needs and each file's s3:// URI, and serves until Ctrl-C.
  --port N       the port (default 4569; 0 picks a free one)
  --bucket NAME  the bucket (default exports)
`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { port: { type: 'string' }, bucket: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const port = Number(values.port ?? 4569);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`--port ${values.port}: not a port number\n`);
    return 2;
  }
  const bucket = values.bucket ?? 'exports';
  const files = await Promise.all(
    positionals.map(async (path) => ({ key: basename(path), body: await readFile(path) })),
  );
  const s3 = await startLocalS3(join(tmpdir(), `selligent-export-s3-${process.pid}`), bucket, port);
  for (const file of files) await s3.put(file.key, file.body);
  const exports = Object.entries(s3.env)
    .map(([name, value]) => `${name}=${value}`)
    .join(' ');
  process.stdout.write(
    [
      `local S3 at ${s3.endpoint}, bucket ${bucket} (any keys are accepted)`,
      `in the shell that runs the export:`,
      `  export ${exports}`,
      ...files.map((file) => `  --input s3://${bucket}/${file.key}`),
      files.length > 1 ? `  --input s3://${bucket}/   (every object of the bucket)` : '',
      'Ctrl-C stops it and removes its objects.',
      '',
    ]
      .filter((line) => line !== '')
      .join('\n') + '\n',
  );
  await new Promise<void>((resolve) => {
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(signal, () => resolve());
  });
  await s3.close();
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
