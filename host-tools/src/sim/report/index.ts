/**
 * `simulate --report FILE`: the demo report of a run, one self-contained HTML
 * page (docs/demo-report.md). A wrong path is refused before the run, not
 * after minutes of simulation.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { UserError } from "../../errors";
import { ReportInput, reportData } from "./report-data";
import { writeReport } from "./report-html";

export { reportData, rocSeries } from "./report-data";
export { reportHtml, writeReport } from "./report-html";
export type { ReportData } from "./types";

export function checkReportTarget(file: string): void {
  const dir = path.dirname(path.resolve(file));
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new UserError(`--report ${file}: the directory ${dir} does not exist`);
  if (fs.existsSync(file) && fs.statSync(file).isDirectory())
    throw new UserError(`--report ${file}: that is a directory; name a file, e.g. ${path.join(file, "report.html")}`);
}

/** Builds the report of a run and writes it; returns its size in bytes. */
export async function writeRunReport(file: string, input: ReportInput): Promise<number> {
  return writeReport(file, await reportData(input));
}
