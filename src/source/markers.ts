/**
 * Files that sit beside query-result parts and are not data: job markers and manifests written by
 * Treasure Data, Hadoop/Spark-style committers and S3 tools. Matched on the last path segment.
 */
const MARKERS = [/^_SUCCESS(\..*)?$/i, /^_committed_/i, /^_started_/i, /\.manifest$/i, /^manifest(\.json)?$/i, /\.crc$/i, /^_metadata$/i, /^_common_metadata$/i];

export function isMarkerObject(key: string): boolean {
  const name = key.slice(key.lastIndexOf('/') + 1);
  return name === '' || MARKERS.some((pattern) => pattern.test(name));
}
