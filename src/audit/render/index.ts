import { terminalSafeJson } from '../../core/terminal-safe.js';
import type { AuditRecord } from '../records.js';
import { renderHtml } from './html.js';
import { renderMarkdown } from './markdown.js';
import { buildReport, type IncidentReport, type ReportVerification } from './model.js';

export type ReportFormat = 'md' | 'html' | 'json';
export const REPORT_FORMATS: readonly ReportFormat[] = ['md', 'html', 'json'];

export function isReportFormat(value: string): value is ReportFormat {
  return (REPORT_FORMATS as readonly string[]).includes(value);
}

/**
 * Renders an incident report from audit records. `verification` carries what only the file
 * can tell (chain, head, signature); without it the report says "not checked".
 */
export function renderReport(records: readonly AuditRecord[], format: ReportFormat, verification?: ReportVerification): string {
  const report = buildReport(records, verification);
  switch (format) {
    case 'md':
      return renderMarkdown(report);
    case 'html':
      return renderHtml(report);
    case 'json':
      return `${terminalSafeJson(JSON.stringify(report, null, 2))}\n`;
  }
}

export { buildReport, renderHtml, renderMarkdown };
export type { IncidentReport, ReportVerification };
