import { ConfigError } from '../errors.js';

/** An `s3://` input URI taken apart. */
export interface S3Uri {
  /** The URI as given. */
  uri: string;
  bucket: string;
  /** The object key, or the prefix (possibly empty, meaning the whole bucket) when `isPrefix`. */
  key: string;
  /** True when the URI ends in `/`: every object under `key` is read. */
  isPrefix: boolean;
}

const MAX_KEY_BYTES = 1024;

/**
 * Parses `s3://bucket/key` (one object) or `s3://bucket/prefix/` (a trailing slash: every object under the
 * prefix; `s3://bucket/` is the whole bucket). The key is taken literally, as the AWS CLI does: it is not
 * percent-decoded. Throws ConfigError `INPUT_URI_INVALID`.
 */
export function parseS3Uri(uri: string): S3Uri {
  const invalid = (why: string): ConfigError =>
    new ConfigError('INPUT_URI_INVALID', `input URI ${JSON.stringify(uri)} is not a valid s3:// URI: ${why}`, {
      stage: 'settings',
      details: { uri },
    });
  if (typeof uri !== 'string' || uri.trim() === '') throw invalid('it is empty');
  const match = /^s3:\/\/([^/]*)(?:\/(.*))?$/is.exec(uri);
  if (!match) throw invalid('expected s3://bucket/key or s3://bucket/prefix/');
  const bucket = match[1] ?? '';
  const rest = match[2];
  if (bucket === '') throw invalid('the bucket name is missing');
  const bucketProblem = bucketNameProblem(bucket);
  if (bucketProblem) throw invalid(`bucket name ${JSON.stringify(bucket)} ${bucketProblem}`);
  if (rest === undefined) {
    throw invalid(`no key or prefix after the bucket; use s3://${bucket}/ to read every object in the bucket`);
  }
  // S3 keys may hold any UTF-8, but a control character in a key is a pasting mistake.
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(rest)) throw invalid('the key contains control characters');
  if (Buffer.byteLength(rest, 'utf8') > MAX_KEY_BYTES) throw invalid(`the key is longer than ${MAX_KEY_BYTES} bytes`);
  const isPrefix = rest === '' || rest.endsWith('/');
  return { uri, bucket, key: rest, isPrefix };
}

/** The `s3://` URI of one object. */
export function formatS3Uri(bucket: string, key: string): string {
  return `s3://${bucket}/${key}`;
}

/**
 * Why `name` is not a valid S3 bucket name (general-purpose bucket naming rules), or undefined. The rules:
 * 3-63 characters; lowercase letters, digits, dots and hyphens; starts and ends with a letter or digit; no
 * two adjacent dots; not shaped like an IPv4 address; none of the reserved prefixes/suffixes.
 */
export function bucketNameProblem(name: string): string | undefined {
  if (name.length < 3 || name.length > 63) return 'must be 3 to 63 characters long';
  if (!/^[a-z0-9.-]+$/.test(name)) return 'may contain only lowercase letters, digits, dots and hyphens';
  if (!/^[a-z0-9]/.test(name) || !/[a-z0-9]$/.test(name)) return 'must start and end with a letter or digit';
  if (name.includes('..')) return 'must not contain two adjacent dots';
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(name)) return 'must not be formatted as an IP address';
  if (/^(xn--|sthree-|amzn-s3-demo-)/.test(name)) return 'uses a reserved prefix';
  if (/(-s3alias|--ol-s3|--x-s3|--table-s3)$/.test(name)) return 'uses a reserved suffix';
  return undefined;
}
