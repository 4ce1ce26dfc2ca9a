/** Number formatting and plain-text tables for the benchmark's report. */

export function median(values) {
  const sorted = [...values].sort((x, y) => x - y);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export const integer = (n) => Math.round(n).toLocaleString('en-US');
export const fixed = (n, digits = 2) => n.toFixed(digits);
export const megabytes = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

/** Lines of a table: `columns` are [header, align ('l' | 'r')]; `rows` arrays of strings. */
export function table(columns, rows) {
  const widths = columns.map(([header], i) => Math.max(header.length, ...rows.map((row) => String(row[i]).length)));
  const line = (cells) =>
    cells
      .map((cell, i) => (columns[i][1] === 'r' ? String(cell).padStart(widths[i]) : String(cell).padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(columns.map(([header]) => header)), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
}

export const verdict = (met) => (met ? 'MET' : 'NOT MET');
