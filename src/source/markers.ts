/**
 * Objects beside query-result parts that are not data: job markers and manifests written by Treasure
 * Data, Hadoop/Spark-style committers and S3 tools. Matched on the last path segment, case-insensitively.
 */
export const MARKER_NAMES: readonly RegExp[] = [
  /^_SUCCESS$/i, // Hadoop/Spark job success marker
  /^_SUCCESS\..*$/i, // ... with a suffix
  /^_committed_/i, // Databricks/Spark transactional commit markers
  /^_started_/i,
  /^_metadata$/i, // Parquet summary files
  /^_common_metadata$/i,
  /\.manifest$/i, // export / Redshift-style manifests
  /^manifest$/i,
  /^manifest\.json$/i,
  /\.crc$/i, // Hadoop checksum side files (`.part-00000.crc`)
  /_\$folder\$$/, // EMR/s3n folder markers (`dir_$folder$`)
];

export function isMarkerObject(key: string): boolean {
  const name = key.slice(key.lastIndexOf('/') + 1);
  return name === '' || MARKER_NAMES.some((pattern) => pattern.test(name));
}
