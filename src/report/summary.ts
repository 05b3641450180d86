import type { RunReport } from './types.js';

/** The one line a person reads last in a task log. */
export function summaryLine(report: RunReport, reportPath: string): string {
  const prefix = `selligent-export: ${report.dry_run ? 'dry run ' : ''}${report.status}`;
  const parts: string[] = [];
  const a = report.accounting;
  if (a) {
    parts.push(`${a.input_rows} rows read`);
    if (report.dry_run) {
      const plan = report.plan;
      if (plan)
        parts.push(
          `would load ${plan.list_rows} into List ${report.list?.api_name ?? ''} and ${plan.segments.length} Segment(s) in ${plan.requests} requests`,
        );
    } else if (report.list) {
      parts.push(
        `${a.loaded} loaded into List ${report.list.api_name} (${report.list.inserted} inserted, ${report.list.updated} updated)`,
      );
    }
    if (a.unchanged !== undefined) parts.push(`${a.unchanged} unchanged`);
    parts.push(`${a.skipped} skipped`, `${a.merged_duplicates} duplicates merged`, `${a.rejected} rejected`);
    if (a.not_applied > 0 && !report.dry_run) parts.push(`${a.not_applied} not applied`);
    const withoutDetail = a.not_applied_by_reason.failed_without_detail ?? 0;
    if (withoutDetail > 0) parts.push(`${withoutDetail} of them failed without detail`);
  } else if (report.input.rows > 0) {
    parts.push(`${report.input.rows} rows read`);
  }
  if (!report.dry_run && report.segments.length > 0) {
    const members = report.segments.reduce((sum, segment) => sum + segment.members_loaded, 0);
    const done = report.segments.filter(
      (segment) => segment.status === 'succeeded' || segment.status === 'partial',
    ).length;
    parts.push(`${done}/${report.segments.length} Segments loaded (${members} members)`);
  }
  if (report.warnings.length > 0)
    parts.push(`${report.warnings.length} warning${report.warnings.length > 1 ? 's' : ''} (see report)`);
  if (report.error)
    parts.push(`error ${report.error.code} in ${report.error.stage ?? 'run'}: ${firstLine(report.error.message)}`);
  const rowsFile = report.rejected_rows;
  if (rowsFile.file && rowsFile.count > 0)
    parts.push(`rows not loaded listed in ${rowsFile.file} (${rowsFile.count} lines)`);
  parts.push(`exit ${report.exit_code}`, `report ${reportPath}`);
  return `${prefix} - ${parts.join(', ')}`;
}

/** Multi-line messages (a list of setting problems) folded into the one line. */
function firstLine(text: string): string {
  const line = text
    .replace(/:?\n\s*-\s*/g, (match, offset: number) => (offset === text.indexOf(match) ? ': ' : '; '))
    .replace(/\s*\n\s*/g, ' ');
  return line.length > 600 ? `${line.slice(0, 597)}...` : line;
}
