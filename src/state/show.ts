import type { ResyncRequired, StateManifest } from './format.js';

/** `state show`: what a state holds, for a person. */
export function formatStateSummary(location: string, manifest: StateManifest, resync?: ResyncRequired): string {
  const { identity } = manifest;
  const lines = [
    `state        ${location}`,
    `generation   ${manifest.generation} (${manifest.directory}, written ${manifest.created_at})`,
    `format       version ${manifest.format_version}, ${manifest.partition_count} partitions`,
    `rows         ${manifest.rows.toLocaleString('en-US')}`,
    `size         ${humanBytes(manifest.bytes)} (${manifest.rows > 0 ? (manifest.bytes / manifest.rows).toFixed(1) : '0'} bytes per row)`,
    `identity     ${identity.host} / ${identity.organization} / List ${identity.list}`,
    `key          ${identity.key_fields.join(', ')} (compared ${identity.key_form})`,
    `fields       ${identity.fields.map((field) => `${field.name}:${field.type}`).join(', ')}`,
    `segments     column ${identity.segment_column}, ${identity.segment_import_option}`,
  ];
  if (resync)
    lines.splice(2, 0, `resync       required since ${resync.at}: ${resync.reason} (the next run sends every row)`);
  const segments = Object.entries(manifest.segments);
  if (segments.length === 0) lines.push('  (no Segment memberships recorded)');
  for (const [segment, members] of segments) lines.push(`  ${segment}  ${members.toLocaleString('en-US')} members`);
  return `${lines.join('\n')}\n`;
}

/** `state show --json`: the manifest's facts, pieces summed up. */
export function stateSummaryJson(
  location: string,
  manifest: StateManifest,
  resync?: ResyncRequired,
): Record<string, unknown> {
  return {
    location,
    generation: manifest.generation,
    directory: manifest.directory,
    created_at: manifest.created_at,
    format_version: manifest.format_version,
    partitions: manifest.partition_count,
    rows: manifest.rows,
    bytes: manifest.bytes,
    identity: manifest.identity,
    segments: manifest.segments,
    resync_required: resync ?? null,
  };
}

export function humanBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(value < 10 ? 2 : 1)} ${units[unit]}`;
}
